package dev.ssekit;

/**
 * A source of nanosecond time for measuring elapsed durations (not wall-clock time). Injectable so
 * that tests control time. Implementations must be thread-safe.
 *
 * <p>This is {@link dev.ssekit.time.Ticker} (from the codec module, which the client uses without
 * the server) under the name server code has always imported; it adds no method, and every
 * implementation of it is accepted wherever a {@code dev.ssekit.time.Ticker} is.
 */
@FunctionalInterface
public interface Ticker extends dev.ssekit.time.Ticker {

    /**
     * The system ticker, {@link System#nanoTime()}.
     *
     * @return the system ticker
     */
    static Ticker system() {
        return System::nanoTime;
    }
}
