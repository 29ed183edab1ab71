// SPDX-License-Identifier: Apache-2.0
package natpmp.netmap.internal.osgi;

import natpmp.api.NetmapService;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Manual smoke test of the bundle in Felix with SCR and ConfigAdmin (run from the module directory after
 * {@code install}; bundles come from the local Maven repository). Not a unit test: it needs the built jar.
 */
public final class FrameworkSmoke {
    private static final Path M2 = Path.of(System.getProperty("user.home"), ".m2", "repository");

    private FrameworkSmoke() {
    }

    public static void main(String[] args) throws Exception {
        Path storage = Files.createTempDirectory("nmsmoke");
        String out1 = round(storage, true);
        String out2 = round(storage, false);
        System.out.println(out1 + out2);
        boolean ok = out2.contains("10.0.0.1 -> 20.0.0.2 --- ttl: S lasthit: S")
                && out2.contains("192.168.0.50 -> 20.0.0.0 --- ttl: 7");
        System.out.println(ok ? "FRAMEWORK SMOKE OK" : "FRAMEWORK SMOKE FAILED");
    }

    private static String round(Path storage, boolean first) throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        if (first) {
            props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        }
        // shared with this class loader so the test can call the services
        props.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA,
                "org.osgi.service.cm;version=1.6.1,natpmp.api;version=1.0.0,"
                + "org.slf4j;version=2.0.16,org.slf4j.spi;version=2.0.16,org.slf4j.event;version=2.0.16,"
                + "org.slf4j.helpers;version=2.0.16"); // slf4j on the run path, as in cnf/runtime.bnd
        Framework fw = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(props);
        fw.start();
        StringBuilder out = new StringBuilder();
        try {
            BundleContext ctx = fw.getBundleContext();
            if (first) {
                for (Path jar : List.of(m2("org/osgi/org.osgi.service.component/1.5.1/"
                                + "org.osgi.service.component-1.5.1.jar"),
                        m2("org/osgi/org.osgi.util.function/1.2.0/org.osgi.util.function-1.2.0.jar"),
                        m2("org/osgi/org.osgi.util.promise/1.3.0/org.osgi.util.promise-1.3.0.jar"),
                        m2("org/apache/felix/org.apache.felix.scr/2.2.18/org.apache.felix.scr-2.2.18.jar"),
                        m2("org/apache/felix/org.apache.felix.configadmin/1.9.26/"
                                + "org.apache.felix.configadmin-1.9.26.jar"),
                        m2("org/apache/felix/org.apache.felix.gogo.runtime/1.1.6/"
                                + "org.apache.felix.gogo.runtime-1.1.6.jar"),
                        Path.of("target/natpmp.netmap-0.1.0-SNAPSHOT.jar"))) {
                    ctx.installBundle(jar.toUri().toString());
                }
            }
            for (var b : ctx.getBundles()) {
                if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    b.start();
                }
            }
            ConfigurationAdmin ca = service(ctx, ConfigurationAdmin.class);
            if (first) {
                ca.getConfiguration("natpmp.netmap", "?").update(dict("external.interface", "wan0"));
                Configuration rule = ca.createFactoryConfiguration("natpmp.netmap.rule", "?");
                rule.update(dict("rank", 1, "subnet", "192.168.0.0/24", "prefix", "20.0.0.0/30", "hook", "both"));
            }
            NetmapService netmap = service(ctx, NetmapService.class);
            for (int i = 0; i < 100 && netmap.pools().isEmpty(); i++) {
                Thread.sleep(50);
            }
            out.append(first ? "first start" : "restart").append(": pools ").append(netmap.pools()).append('\n');
            if (first) {
                netmap.addStatic((java.net.Inet4Address) InetAddress.getByName("10.0.0.1"),
                        (java.net.Inet4Address) InetAddress.getByName("20.0.0.2"));
                // change the rule in place: the pool and its binding stay
                Configuration rule = ca.listConfigurations("(service.factoryPid=natpmp.netmap.rule)")[0];
                rule.update(dict("rank", 1, "subnet", "192.168.0.0/24", "prefix", "20.0.0.0/30", "hook", "both",
                        "ttl", "77"));
                Thread.sleep(1500);
                netmap.addStatic((java.net.Inet4Address) InetAddress.getByName("10.0.0.9"),
                        (java.net.Inet4Address) InetAddress.getByName("20.0.0.3"));
                netmap.remove((java.net.Inet4Address) InetAddress.getByName("10.0.0.9"));
                out.append("rules now: ttl 77 expected on new bindings\n");
            }
            ServiceReference<?>[] cmds = ctx.getServiceReferences((String) null, "(osgi.command.scope=netmap)");
            Object commands = ctx.getService(cmds[0]);
            out.append("osgi.command.function=")
                    .append(java.util.Arrays.toString((String[]) cmds[0].getProperty("osgi.command.function")))
                    .append('\n');
            out.append("netmap:table ->\n").append(commands.getClass().getMethod("table").invoke(commands));
            out.append("netmap:stat ->\n").append(commands.getClass().getMethod("stat").invoke(commands));
            if (first) {
                // a dynamic binding through the rule's ttl, as the data path would create it
                Object manager = ctx.getService(ctx.getServiceReference(NetmapService.class));
                var runtime = manager.getClass().getDeclaredMethod("runtime");
                runtime.setAccessible(true);
                Object rt = runtime.invoke(manager);
                var snat = rt.getClass().getDeclaredMethod("snat", java.net.Inet4Address.class);
                snat.setAccessible(true);
                snat.invoke(rt, InetAddress.getByName("192.168.0.50"));
                out.append("after a dynamic binding:\n").append(netmap.procTable("20.0.0.0/30").orElse(""));
            }
        } finally {
            fw.stop();
            fw.waitForStop(10_000);
        }
        return out.toString();
    }

    private static Path m2(String path) {
        return M2.resolve(path);
    }

    private static <T> T service(BundleContext ctx, Class<T> type) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            ServiceReference<T> ref = ctx.getServiceReference(type);
            if (ref != null) {
                return ctx.getService(ref);
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("no " + type.getName());
    }

    private static Dictionary<String, Object> dict(Object... kv) {
        Hashtable<String, Object> d = new Hashtable<>();
        for (int i = 0; i < kv.length; i += 2) {
            d.put((String) kv[i], kv[i + 1]);
        }
        return d;
    }
}
