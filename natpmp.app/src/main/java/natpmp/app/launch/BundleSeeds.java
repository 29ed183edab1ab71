// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Puts the shipped firewall backend bundles into the FileInstall folder, where an operator can hot-deploy,
 * replace or remove them like any other bundle. The launcher remembers in the state folder what it put there
 * and with which content, so that:
 * <ul>
 * <li>a bundle never seeded before is copied in;</li>
 * <li>a seeded bundle the operator removed stays removed;</li>
 * <li>a seeded bundle still as we left it is replaced when a newer build ships different content;</li>
 * <li>a seeded bundle the operator replaced with their own file is left alone.</li>
 * </ul>
 */
final class BundleSeeds {
    static final String RECORD = "seeded-bundles.properties";

    private BundleSeeds() {
    }

    /**
     * @param shipped folder with the shipped bundle jars (missing = nothing to seed)
     * @param load    the FileInstall folder
     * @param state   the state folder
     * @return what was done, one line per copied file
     */
    static List<String> seed(Path shipped, Path load, Path state) throws IOException {
        List<String> done = new ArrayList<>();
        if (!Files.isDirectory(shipped)) {
            return done;
        }
        Path recordFile = state.resolve(RECORD);
        Map<String, String> record = read(recordFile);
        boolean changed = false;
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(shipped, "*.jar")) {
            for (Path jar : jars) {
                String name = jar.getFileName().toString();
                Path target = load.resolve(name);
                String shippedHash = sha256(jar);
                String recorded = record.get(name);
                if (recorded == null) {
                    if (!Files.exists(target)) {
                        copy(jar, target);
                        done.add("installed " + target);
                    }
                    record.put(name, shippedHash);
                    changed = true;
                } else if (Files.exists(target) && !recorded.equals(shippedHash) && recorded.equals(sha256(target))) {
                    copy(jar, target);
                    done.add("updated " + target);
                    record.put(name, shippedHash);
                    changed = true;
                }
            }
        }
        if (changed) {
            StringBuilder text = new StringBuilder("# bundles ./natpmpd put into the load folder, with their SHA-256\n");
            record.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
            Prepare.writeAtomically(recordFile, text.toString(), false);
        }
        return done;
    }

    /** Copies next to the target first, so FileInstall never sees half a jar. */
    private static void copy(Path source, Path target) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".part");
        Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Map<String, String> read(Path file) throws IOException {
        Map<String, String> record = new TreeMap<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (!line.startsWith("#") && eq > 0) {
                    record.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }
        return record;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[65536];
            for (int n; (n = in.read(buffer)) > 0;) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
