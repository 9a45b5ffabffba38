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
 * subscriber left (each got its final event and its stream ended), or after {@code wait}.
 */
final class BroadcasterShutdown implements SmartLifecycle {

    /** Above the web server's graceful shutdown phase (Integer.MAX_VALUE - 1024), so this stops first. */
    static final int PHASE = Integer.MAX_VALUE - 512;

    private static final System.Logger LOG = System.getLogger(BroadcasterShutdown.class.getName());

    private final ObjectProvider<Broadcaster> broadcasters;
    private final Duration wait;
    private volatile boolean running;
    private volatile boolean stopped;

    BroadcasterShutdown(ObjectProvider<Broadcaster> broadcasters, Duration wait) {
        this.broadcasters = broadcasters;
        this.wait = wait;
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
                LOG.log(Level.WARNING, "SSE subscribers still connected {0} after shutdown began; the web server stops now", wait);
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
