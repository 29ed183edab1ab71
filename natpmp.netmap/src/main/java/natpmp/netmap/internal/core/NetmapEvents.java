// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.core;

/**
 * What the mapper reports while it decides: one call per kernel log event (D17) and per change of the set of
 * bindings (which the firewall must follow). Addresses are int bits so reporting allocates nothing.
 * Bindings enter the kernel with {@link #bound} and {@link #staticAdded}; they leave with {@link #timedOut},
 * {@link #removed} and {@link #released}.
 */
public interface NetmapEvents {
    /** Reports nothing. */
    NetmapEvents NONE = new NetmapEvents() {
    };

    /** @param prefix a pool was created ("new prefix") */
    default void newPrefix(Cidr prefix) {
    }

    /** @param prefix a pool was destroyed with its bindings (each also reported by {@link #released}) */
    default void prefixDestroyed(Cidr prefix) {
    }

    /**
     * A new dynamic binding ("add binding").
     *
     * @param prenat  private address
     * @param postnat public address
     */
    default void bound(int prenat, int postnat) {
    }

    /**
     * An expired binding was dropped to make room ("timeout binding").
     *
     * @param prenat  private address
     * @param postnat public address
     */
    default void timedOut(int prenat, int postnat) {
    }

    /**
     * A binding was removed by an administrator ("remove binding").
     *
     * @param prenat  private address
     * @param postnat public address
     */
    default void removed(int prenat, int postnat) {
    }

    /**
     * A binding went away with a flush or with its pool; no log line of its own.
     *
     * @param prenat  private address
     * @param postnat public address
     */
    default void released(int prenat, int postnat) {
    }

    /**
     * A static binding was added ("adding static binding").
     *
     * @param prenat  private address
     * @param postnat public address
     */
    default void staticAdded(int prenat, int postnat) {
    }

    /**
     * A host found its rule's pool full ("no free adresses"), reported once per full episode (v2).
     *
     * @param prenat the host
     * @param prefix the full pool
     */
    default void noFreeAddress(int prenat, Cidr prefix) {
    }

    /** @param prefix a pool was flushed ("flushing prefix") */
    default void flushed(Cidr prefix) {
    }
}
