// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.exec;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import natpmp.api.FirewallException;

/**
 * {@link NftEngine} in-process: Debian's {@code libnftables.so.1} (package {@code libnftables1}) through JNA, two
 * {@code nft_ctx} for the engine's life, freed by {@link #close()}: one for transactions, one for listings. About
 * 70 µs per single-element change against milliseconds for an {@code nft} process; the same parser and the same
 * netlink transaction as {@code nft -f}.
 *
 * <p>Why two: a context keeps the ruleset cache of its last command while the kernel's generation is unchanged.
 * After a full listing that cache holds every element, and the next transaction on the same context evaluated
 * against it took 40–400 ms for 100 changes at 10,000 forwards instead of 3–15 ms. The transaction context never
 * lists, so its cache stays small.
 *
 * <p>libnftables talks netlink from the calling process, so the rules go into the JVM's own network namespace
 * (the daemon runs inside the gateway's). A {@code nft_ctx} must not be used by two threads at once, two
 * contexts may: each has its own lock, so the watchdog lists on its context while batches commit on the other,
 * and a listing stays in native memory (no copy on the heap, however large the table). The calls cannot be
 * interrupted or timed out; netlink answers in microseconds to milliseconds.
 */
public final class LibNftables implements NftEngine {
    /** The shared object's file name (Debian package {@code libnftables1}). */
    public static final String LIBRARY = "libnftables.so.1";
    /** {@code NFT_CTX_DEFAULT} from {@code libnftables.h} (nftables 1.0.6). */
    static final int NFT_CTX_DEFAULT = 0;
    /** {@code NFT_CTX_OUTPUT_JSON = (1 << 4)} from {@code libnftables.h} (nftables 1.0.6): what {@code nft -j} sets. */
    static final int NFT_CTX_OUTPUT_JSON = 1 << 4;
    /** Exit status reported for a refused command: what {@code nft} exits with (EXIT_FAILURE). */
    static final int REFUSED = 1;
    private static final List<String> SCRIPT = List.of("libnftables", "-f", "-");

    /** The C functions we call, mapped by JNA (see {@code /usr/include/nftables/libnftables.h}). */
    interface Api extends Library {
        Pointer nft_ctx_new(int flags);

        void nft_ctx_free(Pointer ctx);

        int nft_ctx_buffer_output(Pointer ctx);

        int nft_ctx_buffer_error(Pointer ctx);

        void nft_ctx_output_set_flags(Pointer ctx, int flags);

        int nft_run_cmd_from_buffer(Pointer ctx, String buffer);

        int nft_run_cmd_from_filename(Pointer ctx, String filename);

        Pointer nft_ctx_get_output_buffer(Pointer ctx);

        Pointer nft_ctx_get_error_buffer(Pointer ctx);
    }

    private final Api api;
    private final Object txLock = new Object();
    private final Object listLock = new Object();
    private Pointer ctx; // guarded by txLock; null once closed
    private Pointer listCtx; // guarded by listLock; null once closed

    private LibNftables(Api api, Pointer ctx, Pointer listCtx) {
        this.api = api;
        this.ctx = ctx;
        this.listCtx = listCtx;
    }

    /**
     * Loads {@value #LIBRARY} and creates a context with buffered output and error streams.
     *
     * @return the engine
     * @throws FirewallException saying why the library cannot be used (not installed, JNA's native part missing)
     */
    public static LibNftables open() throws FirewallException {
        Api api;
        try {
            // Scripts are ASCII; UTF-8 keeps any interface name intact either way.
            api = Native.load(LIBRARY, Api.class, Map.of(Library.OPTION_STRING_ENCODING, "UTF-8"));
        } catch (LinkageError | RuntimeException e) {
            throw new FirewallException("cannot load " + LIBRARY + " through JNA: " + e);
        }
        Pointer ctx = context(api);
        try {
            return new LibNftables(api, ctx, context(api));
        } catch (FirewallException e) {
            api.nft_ctx_free(ctx);
            throw e;
        }
    }

    private static Pointer context(Api api) throws FirewallException {
        Pointer ctx = api.nft_ctx_new(NFT_CTX_DEFAULT);
        if (ctx == null) {
            throw new FirewallException("nft_ctx_new failed in " + LIBRARY);
        }
        if (api.nft_ctx_buffer_output(ctx) != 0 || api.nft_ctx_buffer_error(ctx) != 0) {
            api.nft_ctx_free(ctx);
            throw new FirewallException("cannot buffer the output of " + LIBRARY);
        }
        return ctx;
    }

    @Override
    public String name() {
        return "library";
    }

    @Override
    public void run(String script, Duration timeout) throws FirewallException {
        synchronized (txLock) {
            runLocked(script);
        }
    }

    @Override
    public boolean listsConcurrently() {
        return true;
    }

    private void runLocked(String script) throws FirewallException {
        try {
            execute(ctx, script, 0, SCRIPT, "libnftables refused the transaction");
        } catch (FirewallException refused) {
            if (refused.exitStatus() == FirewallException.NO_EXIT) {
                throw refused;
            }
            // nftables 1.0.6 quotes the buffer's first line under a kernel error, whatever line failed; run from
            // a file it quotes the failing one, as nft -f does. A refused transaction changed nothing, so the
            // same script is run again from a private temporary file: refused again with the right line, or
            // accepted if the table changed in between (then it is applied, which is what was asked).
            runFromFile(script, refused);
        }
    }

    private void runFromFile(String script, FirewallException refused) throws FirewallException {
        Path file;
        try {
            file = Files.createTempFile("natpmp-nft-", ".nft");
        } catch (IOException e) {
            throw refused;
        }
        try {
            Files.writeString(file, script, StandardCharsets.UTF_8);
            Pointer c = ctx;
            api.nft_ctx_output_set_flags(c, 0);
            int rc = api.nft_run_cmd_from_filename(c, file.toString());
            text(api.nft_ctx_get_output_buffer(c));
            String error = text(api.nft_ctx_get_error_buffer(c));
            if (rc != 0) {
                throw new FirewallException("libnftables refused the transaction", SCRIPT, REFUSED,
                        NftProcessEngine.truncate(error.replace(file.toString(), "-")), null);
            }
        } catch (IOException e) {
            throw refused;
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                refused.addSuppressed(e);
            }
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The listing is a view of the context's output buffer (a listing of 10,000 forwards is megabytes; a copy
     * as a String would need them twice on the heap), valid until the next call. Bytes are read as ISO-8859-1
     * characters: nft prints UTF-8, and everything of ours in it is ASCII.
     */
    @Override
    public CharSequence list(List<String> words, Duration timeout) throws FirewallException {
        synchronized (listLock) {
            return listLocked(words);
        }
    }

    private CharSequence listLocked(List<String> words) throws FirewallException {
        List<String> command = new ArrayList<>(List.of("libnftables", "-j"));
        command.addAll(words);
        Pointer out = execute(listCtx, String.join(" ", words), NFT_CTX_OUTPUT_JSON, command,
                "libnftables listing failed");
        if (out == null) {
            return "";
        }
        long length = out.indexOf(0, (byte) 0);
        if (length < 0 || length > Integer.MAX_VALUE) {
            throw new FirewallException("libnftables printed an unterminated or oversized listing", command,
                    FirewallException.NO_EXIT, "", null);
        }
        return new Latin1View(out.getByteBuffer(0, length));
    }

    /** Returns the output buffer, valid until the next call on the context. */
    private Pointer execute(Pointer c, String commands, int flags, List<String> described, String message)
            throws FirewallException {
        if (c == null) {
            throw new FirewallException("libnftables context is closed", described, FirewallException.NO_EXIT, "",
                    null);
        }
        // JSON only for listings: with the JSON output flag nft_run_cmd_from_buffer first tries to parse the
        // input as JSON.
        api.nft_ctx_output_set_flags(c, flags);
        int rc = api.nft_run_cmd_from_buffer(c, commands);
        // Both buffers are read after every call: reading rewinds them, so nothing is carried to the next call.
        Pointer output = api.nft_ctx_get_output_buffer(c);
        String error = text(api.nft_ctx_get_error_buffer(c));
        if (rc != 0) {
            throw new FirewallException(message, described, REFUSED, NftProcessEngine.truncate(error), null);
        }
        return output;
    }

    /** Characters over bytes in native memory, one byte each. */
    private record Latin1View(ByteBuffer bytes) implements CharSequence {
        @Override
        public int length() {
            return bytes.limit();
        }

        @Override
        public char charAt(int index) {
            return (char) (bytes.get(index) & 0xff);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            byte[] part = new byte[end - start];
            bytes.get(start, part);
            return new String(part, StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return subSequence(0, length()).toString();
        }
    }

    private static String text(Pointer p) {
        return p == null ? "" : p.getString(0, StandardCharsets.UTF_8.name());
    }

    /** Replaces the listing context by a fresh one, which frees its cache of the listed ruleset. */
    @Override
    public void forgetListing() {
        synchronized (listLock) {
            if (listCtx == null) {
                return;
            }
            try {
                Pointer fresh = context(api);
                api.nft_ctx_free(listCtx);
                listCtx = fresh;
            } catch (FirewallException e) {
                // keep the old context: still usable, only larger
            }
        }
    }

    @Override
    public void close() {
        synchronized (txLock) {
            synchronized (listLock) {
                if (ctx != null) {
                    api.nft_ctx_free(ctx);
                    api.nft_ctx_free(listCtx);
                    ctx = null;
                    listCtx = null;
                }
            }
        }
    }
}
