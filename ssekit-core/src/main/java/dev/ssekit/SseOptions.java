package dev.ssekit;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of one {@link SseConnection}, for {@link Sse#start(com.sun.net.httpserver.HttpExchange,
 * SseOptions)}, {@link Sse#open(dev.ssekit.spi.SseTransport, SseOptions)} and the adapters' {@code
 * start} methods. Immutable and thread-safe.
 *
 * <ul>
 *   <li>{@code writeTimeout} (default 30 s): a {@link SseConnection#send} or {@link
 *       SseConnection#comment} whose bytes the socket has not taken within it aborts the connection
 *       ({@link CloseReason#WRITE_TIMEOUT}) and throws {@link java.io.IOException}: a client that
 *       stopped reading cannot block a sender for ever. A {@link Broadcaster}'s own writes are
 *       bounded by its own {@code writeTimeout} instead.
 *   <li>{@code closeGrace} (default 1 s): how long {@link SseConnection#close()} (and a broadcaster's
 *       shutdown) waits for the final event and the end of the response to be written, and for a
 *       write in progress on another thread to finish first; after it the connection is aborted
 *       (the TCP connection is closed without a graceful end and any blocked writer gets {@link
 *       java.io.IOException}).
 *   <li>{@code closeEvent} (default {@code true}): whether {@link SseConnection#close()} writes the
 *       final {@code close} event ({@code event: close}, {@code data: Closing the connection}) before
 *       it ends the response. Turn it off for a protocol whose clients must see no event the
 *       application did not send (a Mercure hub: the reference hub ends its streams without one,
 *       and an {@code EventSource} listener of {@code close} would get a stray event); {@code
 *       close()} then ends the response right after the events already sent, with the same bounds.
 * </ul>
 *
 * <p>Either may be as long as a {@link Duration} goes: one past what a {@code long} of
 * nanoseconds holds (about 292 years, e.g. {@code Duration.ofSeconds(Long.MAX_VALUE)}) acts as
 * that much, in effect no bound.
 */
public final class SseOptions {

    private static final SseOptions DEFAULTS = builder().build();

    private final Duration writeTimeout;
    private final Duration closeGrace;
    private final boolean closeEvent;

    private SseOptions(Builder b) {
        this.writeTimeout = b.writeTimeout;
        this.closeGrace = b.closeGrace;
        this.closeEvent = b.closeEvent;
    }

    /**
     * The defaults: write timeout 30 s, close grace 1 s, the close event on.
     *
     * @return the default options
     */
    public static SseOptions defaults() {
        return DEFAULTS;
    }

    /**
     * A builder starting from the defaults.
     *
     * @return a new builder; not thread-safe
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The longest a single {@code send} or {@code comment} may wait for the socket.
     *
     * @return the write timeout, positive
     */
    public Duration writeTimeout() {
        return writeTimeout;
    }

    /**
     * The longest {@code close()} waits for a graceful end before it aborts the connection.
     *
     * @return the close grace, zero or positive
     */
    public Duration closeGrace() {
        return closeGrace;
    }

    /**
     * Whether {@code close()} writes the final {@code close} event before it ends the response.
     *
     * @return {@code true} (the default) when it does
     */
    public boolean closeEvent() {
        return closeEvent;
    }

    @Override
    public String toString() {
        return "SseOptions[writeTimeout=" + writeTimeout + ", closeGrace=" + closeGrace + ", closeEvent=" + closeEvent + "]";
    }

    /** Builds {@link SseOptions}; validates at {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private Duration writeTimeout = Duration.ofSeconds(30);
        private Duration closeGrace = Duration.ofSeconds(1);
        private boolean closeEvent = true;

        private Builder() {
        }

        /**
         * Sets the write timeout of {@code send} and {@code comment}.
         *
         * @param writeTimeout positive (default 30 s)
         * @return this builder
         * @throws NullPointerException if {@code writeTimeout} is null
         */
        public Builder writeTimeout(Duration writeTimeout) {
            this.writeTimeout = Objects.requireNonNull(writeTimeout, "writeTimeout");
            return this;
        }

        /**
         * Sets how long {@code close()} may take before it aborts the connection.
         *
         * @param closeGrace zero (abort unless the lock and the socket are free at once) or positive
         *     (default 1 s)
         * @return this builder
         * @throws NullPointerException if {@code closeGrace} is null
         */
        public Builder closeGrace(Duration closeGrace) {
            this.closeGrace = Objects.requireNonNull(closeGrace, "closeGrace");
            return this;
        }

        /**
         * Sets whether {@code close()} writes the final {@code close} event ({@code event: close},
         * {@code data: Closing the connection}) before it ends the response.
         *
         * @param closeEvent {@code false} to end the response after the events already sent
         *     (default {@code true})
         * @return this builder
         */
        public Builder closeEvent(boolean closeEvent) {
            this.closeEvent = closeEvent;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the options
         * @throws IllegalArgumentException if {@code writeTimeout} is not positive or {@code
         *     closeGrace} is negative (the message names the setting and its value)
         */
        public SseOptions build() {
            if (writeTimeout.isNegative() || writeTimeout.isZero()) {
                throw new IllegalArgumentException("writeTimeout must be positive: " + writeTimeout);
            }
            if (closeGrace.isNegative()) {
                throw new IllegalArgumentException("closeGrace must not be negative: " + closeGrace);
            }
            return new SseOptions(this);
        }
    }
}
