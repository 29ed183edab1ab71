// SPDX-License-Identifier: Apache-2.0
package natpmp.webconsole.internal.core;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** How the pages show instants: UTC to the second (the JSON documents keep the full ISO-8601 value). */
public final class Times {
    private static final DateTimeFormatter DISPLAY = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private Times() {
    }

    /**
     * @param instant a moment
     * @return e.g. {@code 2026-11-21 14:37:43 UTC}
     */
    public static String display(Instant instant) {
        return DISPLAY.format(instant.truncatedTo(ChronoUnit.SECONDS));
    }
}
