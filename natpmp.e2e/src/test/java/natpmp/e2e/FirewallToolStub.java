// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * Makes every iptables program fail, for one process tree only, while a flag file exists.
 *
 * <p>Why this way: the daemon may call {@code iptables-restore}, {@code iptables-nft-restore}, {@code iptables-save}
 * … by name (PATH) or by absolute path, so a PATH trick could silently miss. All of them are symlinks to
 * {@code /usr/sbin/xtables-nft-multi} or {@code xtables-legacy-multi}. The wrapper runs the daemon in its own
 * mount namespace ({@code unshare -m --propagation private}, inside the gateway's network namespace) and
 * bind-mounts a stub script over those two binaries there; the stub fails while the flag exists and otherwise
 * execs the real binary (bind-mounted aside first) under the name it was called by, which is how the multi-call
 * binary picks the tool. The host and every other process keep the real binaries; removing the flag "repairs"
 * iptables instantly without restarting anything. The launcher and {@code ip netns exec} both exec, so the
 * tracked PID stays the JVM.
 */
public final class IptablesStub {

    private static final List<String> MULTI_CALL = List.of("xtables-nft-multi", "xtables-legacy-multi");

    private final Path dir;
    private final Path flag;
    private final Path script;

    /** @param dir an empty directory for the scripts and the flag (no single quotes in its path) */
    public IptablesStub(Path dir) {
        if (dir.toString().contains("'")) {
            throw new IllegalArgumentException("path must not contain a single quote: " + dir);
        }
        this.dir = dir;
        this.flag = dir.resolve("iptables-broken");
        this.script = dir.resolve("with-iptables-stub.sh");
        try {
            Files.createDirectories(dir);
            write(script, """
                    #!/bin/bash
                    # SPDX-License-Identifier: Apache-2.0
                    # with-iptables-stub.sh DIR COMMAND...: run COMMAND with the xtables multi-call binaries replaced
                    # by DIR/stub-* (only in this private mount namespace), then exec it.
                    set -euo pipefail
                    dir=$1; shift
                    for multi in xtables-nft-multi xtables-legacy-multi; do
                      [ -f "/usr/sbin/$multi" ] || continue
                      : > "$dir/real-$multi"
                      mount --bind "/usr/sbin/$multi" "$dir/real-$multi"
                      mount --bind "$dir/stub-$multi" "/usr/sbin/$multi"
                    done
                    exec "$@"
                    """);
            for (String multi : MULTI_CALL) {
                write(dir.resolve("stub-" + multi), """
                        #!/bin/bash
                        # SPDX-License-Identifier: Apache-2.0
                        # e2e stub for %2$s: fails while the flag file exists, else runs the real program
                        if [ -e '%1$s/iptables-broken' ]; then
                          echo "e2e stub: ${0##*/} made to fail (flag %1$s/iptables-broken)" >&2
                          exit 1
                        fi
                        exec -a "${0##*/}" '%1$s/real-%2$s' "$@"
                        """.formatted(dir, multi));
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

    /** From now on every iptables call of the wrapped process fails (exit 1). */
    public void breakIptables() {
        try {
            Files.writeString(flag, "broken by the e2e test\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** iptables works again. */
    public void repair() {
        try {
            Files.deleteIfExists(flag);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
