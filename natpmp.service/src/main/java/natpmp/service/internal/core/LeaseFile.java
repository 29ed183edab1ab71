// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import java.util.List;

/**
 * The persistent state: when the epoch started and the NAT-PMP mappings, with wall-clock times because the
 * monotonic clock does not survive a restart.
 *
 * @param epochStartWallMillis wall-clock millis at which the epoch started
 * @param leases               the NAT-PMP mappings
 * @param journal              generation of the journal that continues this snapshot (0: none); a journal
 *                             with another generation is stale and ignored
 */
public record LeaseFile(long epochStartWallMillis, List<StoredLease> leases, long journal) {
    /** Copies the list. */
    public LeaseFile {
        leases = List.copyOf(leases);
        if (journal < 0) {
            throw new IllegalArgumentException("journal generation must be >= 0, was " + journal);
        }
    }

    /**
     * A snapshot that no journal continues.
     *
     * @param epochStartWallMillis wall-clock millis at which the epoch started
     * @param leases               the NAT-PMP mappings
     */
    public LeaseFile(long epochStartWallMillis, List<StoredLease> leases) {
        this(epochStartWallMillis, leases, 0);
    }

    /**
     * One stored mapping.
     *
     * @param key                 client, protocol, internal port
     * @param externalPort        external port
     * @param lifetime            the lifetime granted, seconds
     * @param expiresAtWallMillis wall-clock millis of expiry
     */
    public record StoredLease(MappingKey key, int externalPort, long lifetime, long expiresAtWallMillis) {
        /** Checks the ranges. */
        public StoredLease {
            if (key == null) {
                throw new NullPointerException("key");
            }
            if (externalPort < 1 || externalPort > 0xffff) {
                throw new IllegalArgumentException("externalPort must be in 1..65535, was " + externalPort);
            }
            NatPmpCodec.checkU32("lifetime", lifetime);
        }
    }
}
