// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Makes firewall programs fail, for one process tree only, while a flag file exists.
 *
 * <p>Why this way: the daemon may call {@code iptables-restore}, {@code iptables-nft-restore}, {@code iptables-save},
 * {@code nft} … by name (PATH) or by absolute path, so a PATH trick could silently miss. The iptables tools are all
 * symlinks to {@code /usr/sbin/xtables-nft-multi} or {@code xtables-legacy-multi}; {@code nft} is one binary. The
 * wrapper runs the daemon in its own mount namespace ({@code unshare -m --propagation private}, inside the
 * gateway's network namespace) and bind-mounts a stub script over each of those binaries there; the stub fails
 * while the flag exists and otherwise execs the real binary (bind-mounted aside first) under the name it was
 * called by, which is how a multi-call binary picks the tool. The host and every other process keep the real
 * binaries; removing the flag "repairs" the tools instantly without restarting anything. The launcher and
 * {@code ip netns exec} both exec, so the tracked PID stays the JVM.
 *
 * <p>A binary stub cannot reach code that talks to the kernel in-process (the nftables backend's libnftables
 * engine): tests that break {@code nft} must run that backend with {@code engine=PROCESS}.
 */
public final class FirewallToolStub {

    /** The iptables multi-call binaries (every iptables, iptables-save, iptables-restore … variant). */
    public static final List<String> IPTABLES = List.of("/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-legacy-multi");
    /** The nftables command line tool. */
    public static final List<String> NFT = List.of("/usr/sbin/nft");

    private final Path dir;
    private final Path flag;
    private final Path script;

    /**
     * @param dir      an empty directory for the scripts and the flag (no single quotes in its path)
     * @param binaries absolute paths of the programs to replace (absent ones are skipped)
     */
    public FirewallToolStub(Path dir, List<String> binaries) {
        if (dir.toString().contains("'")) {
            throw new IllegalArgumentException("path must not contain a single quote: " + dir);
        }
        this.dir = dir;
        this.flag = dir.resolve("tools-broken");
        this.script = dir.resolve("with-tool-stub.sh");
        StringBuilder mounts = new StringBuilder();
        for (String binary : binaries) {
            String base = Path.of(binary).getFileName().toString();
            mounts.append("""
                    if [ -f '%1$s' ]; then
                      : > "$dir/real-%2$s"
                      mount --bind '%1$s' "$dir/real-%2$s"
                      mount --bind "$dir/stub-%2$s" '%1$s'
                    fi
                    """.formatted(binary, base));
        }
        try {
            Files.createDirectories(dir);
            write(script, """
                    #!/bin/bash
                    # SPDX-License-Identifier: Apache-2.0
                    # with-tool-stub.sh DIR COMMAND...: run COMMAND with firewall binaries replaced by DIR/stub-*
                    # (only in this private mount namespace), then exec it.
                    set -euo pipefail
                    dir=$1; shift
                    %s
                    exec "$@"
                    """.formatted(mounts));
            for (String binary : binaries) {
                String base = Path.of(binary).getFileName().toString();
                write(dir.resolve("stub-" + base), """
                        #!/bin/bash
                        # SPDX-License-Identifier: Apache-2.0
                        # e2e stub for %2$s: fails while the flag file exists, else runs the real program
                        if [ -e '%1$s/tools-broken' ]; then
                          echo "e2e stub: ${0##*/} made to fail (flag %1$s/tools-broken)" >&2
                          exit 1
                        fi
                        exec -a "${0##*/}" '%1$s/real-%2$s' "$@"
                        """.formatted(dir, base));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** @return the argv prefix that runs a command under the stub (see {@link Daemon#wrapWith(List)}) */
    public List<String> wrapper() {
        return List.of("unshare", "-m", "--propagation", "private", script.toString(), dir.toString());
    }

    /** From now on every call of a stubbed program by the wrapped process fails (exit 1). */
    public void breakTools() {
        try {
            Files.writeString(flag, "broken by the e2e test\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The programs work again. */
    public void repair() {
        try {
            Files.deleteIfExists(flag);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
