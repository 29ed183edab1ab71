// SPDX-License-Identifier: Apache-2.0
package natpmp.app.launch;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.random.RandomGenerator;

/**
 * Passwords in the stored form the Felix Web Console 5 verifies: {@code {sha-256}<salt hex>-<iterations>-<base64 hash>},
 * where the hash is SHA-256 applied {@code iterations} times, first to the UTF-8 bytes of salt followed by
 * password, then to its own result. The console accepts this form from its configuration and from the
 * {@code felix.webconsole.password} framework property.
 */
final class ConsolePassword {
    static final int SALT_BYTES = 8;
    static final int ITERATIONS = 1000;
    private static final String ALGORITHM = "SHA-256";
    private static final char[] ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789".toCharArray();
    static final int GENERATED_LENGTH = 24;

    private ConsolePassword() {
    }

    /**
     * @param random a source of randomness (a SecureRandom in production)
     * @return a fresh password of {@value #GENERATED_LENGTH} unambiguous letters and digits (about 140 bits)
     */
    static String generate(RandomGenerator random) {
        StringBuilder b = new StringBuilder(GENERATED_LENGTH);
        for (int i = 0; i < GENERATED_LENGTH; i++) {
            b.append(ALPHABET[random.nextInt(ALPHABET.length)]);
        }
        return b.toString();
    }

    /**
     * @param password the clear text
     * @param random   source of the salt
     * @return the stored form
     */
    static String hash(String password, RandomGenerator random) {
        byte[] saltBytes = new byte[SALT_BYTES];
        random.nextBytes(saltBytes);
        return hash(password, HexFormat.of().formatHex(saltBytes), ITERATIONS);
    }

    static String hash(String password, String salt, int iterations) {
        try {
            MessageDigest digest = MessageDigest.getInstance(ALGORITHM);
            byte[] value = (salt + password).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < iterations; i++) {
                digest.reset();
                value = digest.digest(value);
            }
            return "{sha-256}" + salt + "-" + iterations + "-" + Base64.getEncoder().encodeToString(value);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /**
     * @param stored a stored form
     * @return whether it is one this class can produce
     */
    static boolean isStoredForm(String stored) {
        return stored.matches("\\{sha-256\\}[0-9a-f]+-\\d+-[A-Za-z0-9+/=]+");
    }
}
