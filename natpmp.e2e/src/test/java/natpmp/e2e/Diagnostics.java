// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints what helps to understand a failed end-to-end test (daemon output, the gateway's ruleset) to stderr,
 * and only then: passing runs stay quiet.
 */
public final class Diagnostics implements TestWatcher {

    private final Map<String, Supplier<String>> sections = new LinkedHashMap<>();

    /**
     * Registers a section printed when a test fails.
     *
     * @param title  heading
     * @param source produces the text at failure time
     */
    public synchronized void add(String title, Supplier<String> source) {
        sections.put(title, source);
    }

    /** Forgets every section (for classes whose tests each start their own processes). */
    public synchronized void clear() {
        sections.clear();
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        StringBuilder report = new StringBuilder("\n########## e2e diagnostics for ")
                .append(context.getDisplayName()).append(" ##########\n");
        Map<String, Supplier<String>> copy;
        synchronized (this) {
            copy = new LinkedHashMap<>(sections);
        }
        copy.forEach((title, source) -> {
            report.append("----- ").append(title).append(" -----\n");
            try {
                report.append(source.get()).append('\n');
            } catch (RuntimeException e) {
                report.append("<unavailable: ").append(e).append(">\n");
            }
        });
        System.err.println(report);
    }
}
