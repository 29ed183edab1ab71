// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.core;

import natpmp.api.FirewallChange;

import java.util.List;

/**
 * A change no client waits for (expiry, static mappings, administration, disabling). Completed like any
 * other ticket with {@link NatPmpEngine#committed} or {@link NatPmpEngine#failed}.
 *
 * @param ticket  the ticket
 * @param change  what the kernel must do
 * @param removed mappings removed from the table
 * @param added   mappings added to the table
 */
public record InternalChange(long ticket, FirewallChange change, List<Lease> removed, List<Lease> added) {
    /** Copies the lists. */
    public InternalChange {
        removed = List.copyOf(removed);
        added = List.copyOf(added);
    }
}
