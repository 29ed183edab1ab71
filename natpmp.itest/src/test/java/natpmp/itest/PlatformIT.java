// SPDX-License-Identifier: Apache-2.0
package natpmp.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;

/** The assembled platform: every bundle resolves and starts, and the core services are there. */
@ExtendWith({BundleContextExtension.class, ServiceExtension.class})
class PlatformIT {
    @InjectBundleContext
    BundleContext context;

    @Test
    void everyBundleResolvesAndIsActive() {
        List<Bundle> bundles = Arrays.asList(context.getBundles());
        assertThat(bundles).extracting(Bundle::getSymbolicName)
                .contains("natpmp.api", "natpmp.exec", "natpmp.service", "natpmp.iptables", "natpmp.nftables",
                        "org.apache.felix.scr", "org.apache.felix.configadmin", "org.apache.felix.metatype",
                        "org.apache.felix.fileinstall", "org.apache.felix.http.jetty12", "org.apache.felix.webconsole");
        assertThat(bundles).allSatisfy(b -> assertThat(b.getState())
                .as("state of %s", b.getSymbolicName()).isEqualTo(Bundle.ACTIVE));
    }

    @Test
    void platformServicesAreAvailable(@InjectService ConfigurationAdmin cm, @InjectService ServiceComponentRuntime scr) {
        assertThat(cm).isNotNull();
        assertThat(scr.getComponentDescriptionDTOs(bundle("natpmp.service"))).isNotEmpty();
        assertThat(scr.getComponentDescriptionDTOs(bundle("natpmp.iptables"))).isNotEmpty();
    }

    private Bundle bundle(String bsn) {
        return Arrays.stream(context.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).findFirst().orElseThrow();
    }
}
