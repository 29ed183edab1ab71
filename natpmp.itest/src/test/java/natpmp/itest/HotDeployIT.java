// SPDX-License-Identifier: Apache-2.0
package natpmp.itest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Version;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.junit5.context.BundleContextExtension;

/**
 * Hot deploy through the FileInstall folder ({@code load/} in the product): a bundle jar copied in is installed and
 * started, a newer version copied over it updates it, and removing the file uninstalls it.
 */
@ExtendWith(BundleContextExtension.class)
class HotDeployIT {
    private static final String BSN = "natpmp.itest.hotdeploy";
    private static final Duration LIMIT = Duration.ofSeconds(20);

    @InjectBundleContext
    BundleContext context;

    @Test
    void bundleJarIsInstalledUpdatedAndUninstalledThroughTheLoadFolder() throws Exception {
        Path load = Path.of(context.getProperty("natpmp.itest.load"));
        Files.createDirectories(load);
        Path target = load.resolve(BSN + ".jar");
        try {
            copyIn(bundleJar("1.0.0", "first"), target);
            Bundle installed = Await.until("bundle 1.0.0 active", LIMIT, () -> find()
                    .filter(b -> b.getState() == Bundle.ACTIVE && b.getVersion().equals(new Version(1, 0, 0)))
                    .orElse(null));
            long id = installed.getBundleId();

            copyIn(bundleJar("1.1.0", "second"), target);
            Bundle updated = Await.until("bundle updated to 1.1.0", LIMIT, () -> find()
                    .filter(b -> b.getState() == Bundle.ACTIVE && b.getVersion().equals(new Version(1, 1, 0)))
                    .orElse(null));
            assertThat(updated.getBundleId()).as("updated in place, not installed twice").isEqualTo(id);
            assertThat(updated.getHeaders().get("X-Natpmp-Itest")).isEqualTo("second");

            Files.delete(target);
            Await.until("bundle uninstalled", LIMIT, () -> find().isEmpty());
        } finally {
            Files.deleteIfExists(target);
        }
    }

    private Optional<Bundle> find() {
        return Arrays.stream(context.getBundles()).filter(b -> BSN.equals(b.getSymbolicName())).findFirst();
    }

    /** Writes the new content next to the target and moves it in, so FileInstall never sees half a jar. */
    private static void copyIn(Path source, Path target) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".part");
        Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        // FileInstall also compares modification times: make sure an update within the same second is seen
        Files.setLastModifiedTime(target, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
    }

    private static Path bundleJar(String version, String marker) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", BSN);
        main.putValue("Bundle-Version", version);
        main.putValue("X-Natpmp-Itest", marker);
        Path jar = Files.createTempFile("hotdeploy-" + version, ".jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jo = new JarOutputStream(out, manifest)) {
            jo.putNextEntry(new ZipEntry("natpmp/itest/hotdeploy/marker.txt"));
            jo.write(marker.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            jo.closeEntry();
        }
        return jar;
    }
}
