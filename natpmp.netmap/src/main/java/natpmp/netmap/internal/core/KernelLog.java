// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

import java.util.function.Consumer;

/**
 * Turns mapper events into the log lines of the kernel target (D17), prefix {@code xt_DNETMAP: } included so
 * existing log filters keep working, and forwards every event to a delegate. With {@code log} false (the
 * module's {@code disable_log=1}) the add, timeout, remove and no-free lines are suppressed, the others stay.
 * The no-free line is already limited to once per full episode by the allocator (v2 behaviour).
 */
public final class KernelLog implements NetmapEvents {
    /** The kernel's message prefix. */
    public static final String PREFIX = "xt_DNETMAP: ";

    private final NetmapEvents delegate;
    private final Consumer<String> sink;
    private volatile boolean log;

    /**
     * @param delegate receives every event after it was logged
     * @param sink     receives the lines
     * @param log      false suppresses the per-binding lines
     */
    public KernelLog(NetmapEvents delegate, Consumer<String> sink, boolean log) {
        this.delegate = delegate;
        this.sink = sink;
        this.log = log;
    }

    /** @param enabled the new value of the {@code log} setting */
    public void log(boolean enabled) {
        this.log = enabled;
    }

    @Override
    public void newPrefix(Cidr prefix) {
        sink.accept(PREFIX + "new prefix " + prefix);
        delegate.newPrefix(prefix);
    }

    @Override
    public void prefixDestroyed(Cidr prefix) {
        delegate.prefixDestroyed(prefix);
    }

    @Override
    public void bound(int prenat, int postnat) {
        if (log) {
            sink.accept(PREFIX + "add binding " + Ipv4.format(prenat) + " -> " + Ipv4.format(postnat));
        }
        delegate.bound(prenat, postnat);
    }

    @Override
    public void timedOut(int prenat, int postnat) {
        if (log) {
            sink.accept(PREFIX + "timeout binding " + Ipv4.format(prenat) + " -> " + Ipv4.format(postnat));
        }
        delegate.timedOut(prenat, postnat);
    }

    @Override
    public void removed(int prenat, int postnat) {
        if (log) {
            sink.accept(PREFIX + "remove binding " + Ipv4.format(prenat) + " -> " + Ipv4.format(postnat));
        }
        delegate.removed(prenat, postnat);
    }

    @Override
    public void released(int prenat, int postnat) {
        delegate.released(prenat, postnat);
    }

    @Override
    public void staticAdded(int prenat, int postnat) {
        sink.accept(PREFIX + "adding static binding " + Ipv4.format(prenat) + ":" + Ipv4.format(postnat));
        delegate.staticAdded(prenat, postnat);
    }

    @Override
    public void noFreeAddress(int prenat, Cidr prefix) {
        if (log) {
            // "adresses" (sic): the kernel's spelling, kept for log filters
            sink.accept(PREFIX + "ip " + Ipv4.format(prenat) + " - no free adresses in prefix " + prefix);
        }
        delegate.noFreeAddress(prenat, prefix);
    }

    @Override
    public void flushed(Cidr prefix) {
        sink.accept(PREFIX + "flushing prefix " + prefix);
        delegate.flushed(prefix);
    }
}
