package dev.ssekit.time;

/**
 * A source of nanosecond time for measuring elapsed durations (not wall-clock time). Injectable so
 * that tests control time. Implementations must be thread-safe.
 *
 * <p>The server module's {@code dev.ssekit.Ticker} extends this interface without adding a method.
 */
@FunctionalInterface
public interface Ticker {

    /**
     * The current reading; only differences between two readings are meaningful.
     *
     * @return nanoseconds from an arbitrary origin
     */
    long read();

    /**
     * The system ticker, {@link System#nanoTime()}.
     *
     * @return the system ticker
     */
    static Ticker system() {
        return System::nanoTime;
    }
}
