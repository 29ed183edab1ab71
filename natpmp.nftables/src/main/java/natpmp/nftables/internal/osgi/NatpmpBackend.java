// SPDX-License-Identifier: Apache-2.0
package natpmp.nftables.internal.osgi;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.osgi.service.component.annotations.ComponentPropertyType;

/**
 * Component property type for {@code natpmp.backend} ({@link natpmp.api.FirewallBackend#BACKEND_PROPERTY}):
 * consumers select this backend with {@code backend.target=(natpmp.backend=nftables)}.
 */
@ComponentPropertyType
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
@interface NatpmpBackend {
    /** Property name prefix. */
    String PREFIX_ = "natpmp.";

    /** @return the backend's name */
    String backend();
}
