package dev.ssekit.spring;

import dev.ssekit.Broadcaster;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * Closes the context's broadcasters when the context stops, before the web server: Spring stops
 * lifecycles from the highest phase down, and Spring Boot's web server graceful shutdown runs in
 * phase {@code WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE} ({@code Integer.MAX_VALUE -
 * 1024}), the server's stop in a lower one. The stop completes once every broadcaster has no
 * subscriber left (each got its final event and its stream ended), or after {@code wait}, which
 * {@link #waitBound(Duration, Duration)} keeps inside Spring's {@code
 * spring.lifecycle.timeout-per-shutdown-phase}: Spring never gives up on this phase. A subscriber
 * that stopped reading may still be connected then; each closed broadcaster ends it at its write
 * timeout, during the web server's graceful shutdown phase that follows.
 */
final class BroadcasterShutdown implements SmartLifecycle {

    /** Above the web server's graceful shutdown phase (Integer.MAX_VALUE - 1024), so this stops first. */
    static final int PHASE = Integer.MAX_VALUE - 512;

    /** Spring's bound on each lifecycle phase's stop. */
    static final String PHASE_TIMEOUT = "spring.lifecycle.timeout-per-shutdown-phase";
    /** Its default (Spring's DefaultLifecycleProcessor and Spring Boot's LifecycleProperties). */
    static final Duration DEFAULT_PHASE_TIMEOUT = Duration.ofSeconds(30);
    /** The most of the phase's time kept for the phase's other lifecycles and for Spring's own bookkeeping. */
    private static final Duration MAX_MARGIN = Duration.ofSeconds(5);

    private static final System.Logger LOG = System.getLogger(BroadcasterShutdown.class.getName());

    private final ObjectProvider<Broadcaster> broadcasters;
    private final Duration wait;
    private final Duration phaseTimeout;
    private volatile boolean running;
    private volatile boolean stopped;

    BroadcasterShutdown(ObjectProvider<Broadcaster> broadcasters, Duration wait, Duration phaseTimeout) {
        this.broadcasters = broadcasters;
        this.wait = wait;
        this.phaseTimeout = phaseTimeout;
    }

    /**
     * How long the stop waits for subscribers: the write timeout plus 5 s (by then every stream has
     * ended), bounded by the phase timeout less a margin (a quarter of it, at most 5 s): 25 s with
     * Spring's default 30 s. A phase timeout of zero or less leaves no wait.
     *
     * @param writeTimeout the broadcasters' write timeout ({@code ssekit.write-timeout})
     * @param phaseTimeout {@code spring.lifecycle.timeout-per-shutdown-phase}
     * @return the wait, zero or more
     */
    static Duration waitBound(Duration writeTimeout, Duration phaseTimeout) {
        if (phaseTimeout.isNegative() || phaseTimeout.isZero()) {
            return Duration.ZERO;
        }
        Duration margin = phaseTimeout.dividedBy(4);
        if (margin.compareTo(MAX_MARGIN) > 0) {
            margin = MAX_MARGIN;
        }
        Duration bound = phaseTimeout.minus(margin);
        Duration full = writeTimeout.plusSeconds(5);
        return full.compareTo(bound) < 0 ? full : bound;
    }

    @Override
    public void start() {
        if (stopped) {
            // a closed Broadcaster refuses every subscriber: a restarted context would serve none
            throw new IllegalStateException("ssekit closed the context's Broadcasters when the context stopped; a closed "
                    + "Broadcaster cannot reopen, so this context cannot start again: restart the application");
        }
        running = true;
    }

    @Override
    public void stop() {
        stopped = true;
        List<Broadcaster> all = broadcasters.orderedStream().toList();
        all.forEach(Broadcaster::close);
        long deadline = System.nanoTime() + wait.toNanos();
        // each closed broadcaster ends every stream within its write timeout: this loop ends by then
        while (all.stream().anyMatch(b -> b.stats().connections() > 0)) {
            if (System.nanoTime() - deadline >= 0) {
                LOG.log(Level.WARNING, "SSE subscribers still connected {0} after shutdown began (bounded inside {1}={2}); "
                        + "the shutdown goes on, and the broadcasters end them at their write timeout", wait, PHASE_TIMEOUT,
                        phaseTimeout);
                break;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        running = false;
    }

    @Override
    public void stop(Runnable callback) {
        Thread.ofVirtual().name("ssekit-shutdown").start(() -> {
            try {
                stop();
            } finally {
                callback.run();
            }
        });
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
