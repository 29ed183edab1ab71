// SPDX-License-Identifier: Apache-2.0
package natpmp.app.internal;

import java.util.ArrayList;
import java.util.List;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM and SIGINT into an orderly framework stop, so that {@code natpmpd} exits with status 0 once
 * every bundle has deactivated (the JVM's own handling would exit with 143 while bundles are still being
 * stopped by a shutdown hook). The previous handlers come back when this component goes away. A second
 * signal while stopping is ignored; SIGKILL is the way to stop at once.
 */
@Component(immediate = true)
public final class StopOnSignal {
    private static final Logger LOG = LoggerFactory.getLogger(StopOnSignal.class);
    private static final List<String> SIGNALS = List.of("TERM", "INT");

    private final BundleContext context;
    private final List<Signal> installed = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();

    /**
     * @param context our bundle context, used to stop the system bundle
     */
    @Activate
    public StopOnSignal(BundleContext context) {
        this.context = context;
        for (String name : SIGNALS) {
            try {
                Signal signal = new Signal(name);
                previous.add(Signal.handle(signal, this::onSignal));
                installed.add(signal);
            } catch (IllegalArgumentException e) {
                LOG.warn("cannot handle SIG{}: {}", name, e.getMessage());
            }
        }
    }

    private void onSignal(Signal signal) {
        LOG.info("SIG{} received, stopping", signal.getName());
        // The bnd launcher exits with its STOPPED status (117) once the framework has stopped. A stop asked
        // for by the operator is a clean exit: this hook, registered only now, turns that exit into status 0.
        // halt() skips nothing of ours: by the time the launcher calls exit, every bundle has stopped.
        try {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> Runtime.getRuntime().halt(0), "natpmpd-exit"));
        } catch (IllegalStateException alreadyExiting) {
            return;
        }
        Thread stopper = new Thread(() -> {
            try {
                context.getBundle(0).stop();
            } catch (BundleException | IllegalStateException e) {
                LOG.error("could not stop the framework", e);
                Runtime.getRuntime().halt(1);
            }
        }, "natpmpd-stop");
        stopper.start();
    }

    /** Restores the handlers that were there before. */
    @Deactivate
    public void restore() {
        for (int i = 0; i < installed.size(); i++) {
            try {
                Signal.handle(installed.get(i), previous.get(i));
            } catch (IllegalArgumentException e) {
                // the JVM is shutting down; nothing to restore
            }
        }
    }
}
