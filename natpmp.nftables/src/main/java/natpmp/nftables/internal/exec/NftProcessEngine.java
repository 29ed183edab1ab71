// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import natpmp.api.FirewallException;
import natpmp.exec.Command;
import natpmp.exec.CommandException;
import natpmp.exec.CommandResult;
import natpmp.exec.ProcessRunner;

/** {@link NftEngine} with one {@code nft} process per call: {@code nft -f -} and {@code nft -j list ...}. */
public final class NftProcessEngine implements NftEngine {
    /** The program. */
    public static final String NFT = "nft";
    /** Longest standard error kept in an exception: nft echoes the failing line, which can be huge. */
    static final int MAX_STDERR = 4000;

    private final ProcessRunner runner;

    /** @param runner runs {@code nft} */
    public NftProcessEngine(ProcessRunner runner) {
        this.runner = runner;
    }

    @Override
    public String name() {
        return "process";
    }

    @Override
    public void run(String script, Duration timeout) throws FirewallException {
        execute(new Command(List.of(NFT, "-f", "-"), script, timeout));
    }

    @Override
    public CharSequence list(List<String> words, Duration timeout) throws FirewallException {
        List<String> argv = new ArrayList<>(List.of(NFT, "-j"));
        argv.addAll(words);
        return execute(new Command(argv, "", timeout)).stdout();
    }

    private CommandResult execute(Command command) throws FirewallException {
        CommandResult result;
        try {
            result = runner.run(command);
        } catch (CommandException e) {
            throw new FirewallException(e.getMessage(), command.argv(), FirewallException.NO_EXIT, e.stderr(), e);
        }
        if (!result.succeeded()) {
            throw new FirewallException("nft command failed", command.argv(), result.exitStatus(),
                    truncate(result.stderr()), null);
        }
        return result;
    }

    /** @return {@code text} cut to {@link #MAX_STDERR} characters, saying how much was cut */
    static String truncate(String text) {
        if (text.length() <= MAX_STDERR) {
            return text;
        }
        return text.substring(0, MAX_STDERR) + " [" + (text.length() - MAX_STDERR) + " more characters]";
    }

    /** @return true: every call is its own process */
    @Override
    public boolean listsConcurrently() {
        return true;
    }

    /** Nothing to free: every call is its own process. */
    @Override
    public void close() {
        // nothing held between calls
    }
}
