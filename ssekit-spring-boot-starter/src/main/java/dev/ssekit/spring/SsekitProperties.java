package dev.ssekit.spring;

import dev.ssekit.Broadcaster;
import dev.ssekit.SlowConsumerPolicy;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The {@code ssekit.*} properties from which {@link SsekitAutoConfiguration} builds the {@link
 * Broadcaster}; each mirrors a setting of {@link Broadcaster.Builder}, with the builder's default.
 * A setter given a value out of range throws {@link IllegalArgumentException} naming the property
 * and the value, so the application fails to start with that message.
 *
 * <p>Not thread-safe: Spring binds it once at startup.
 */
@ConfigurationProperties("ssekit")
public final class SsekitProperties {

    /** How long a subscriber may go without a write before it gets a heartbeat comment. */
    private Duration heartbeat = Duration.ofSeconds(15);

    /** How long one write may take before the subscriber is evicted. */
    private Duration writeTimeout = Duration.ofSeconds(30);

    /** The bound on each subscriber's unwritten bytes; above it the slow-consumer policy applies. */
    private DataSize maxQueuedBytes = DataSize.ofMegabytes(1);

    /**
     * How many events may wait for one delivery group (a Netty event loop, or one of the
     * broadcaster's lanes) before a publish waits for it.
     */
    private int deliveryBacklog = 1024;

    /** What happens when a subscriber's queue is full: disconnect it, or drop its oldest events. */
    private SlowConsumerPolicy slowConsumerPolicy = SlowConsumerPolicy.DISCONNECT;

    /** The retry hint in the final "shutdown" event subscribers get when the application stops. */
    private Duration shutdownRetry = Duration.ofSeconds(1);

    /** The in-memory history that subscribers resume from with Last-Event-ID. */
    private final History history = new History();

    /** Meters. */
    private final Metrics metrics = new Metrics();

    /** Creates the properties with the builder's defaults. */
    public SsekitProperties() {
    }

    /**
     * The heartbeat interval.
     *
     * @return the interval (default 15 s)
     */
    public Duration getHeartbeat() {
        return heartbeat;
    }

    /**
     * Sets the heartbeat interval.
     *
     * @param heartbeat positive
     * @throws IllegalArgumentException if it is not
     */
    public void setHeartbeat(Duration heartbeat) {
        this.heartbeat = positive("ssekit.heartbeat", heartbeat);
    }

    /**
     * The write timeout.
     *
     * @return the timeout (default 30 s)
     */
    public Duration getWriteTimeout() {
        return writeTimeout;
    }

    /**
     * Sets the write timeout.
     *
     * @param writeTimeout positive
     * @throws IllegalArgumentException if it is not
     */
    public void setWriteTimeout(Duration writeTimeout) {
        this.writeTimeout = positive("ssekit.write-timeout", writeTimeout);
    }

    /**
     * The bound on each subscriber's queue.
     *
     * @return the bound (default 1 MB)
     */
    public DataSize getMaxQueuedBytes() {
        return maxQueuedBytes;
    }

    /**
     * Sets the bound on each subscriber's queue.
     *
     * @param maxQueuedBytes at least 1 byte
     * @throws IllegalArgumentException if it is not
     */
    public void setMaxQueuedBytes(DataSize maxQueuedBytes) {
        this.maxQueuedBytes = atLeastOneByte("ssekit.max-queued-bytes", maxQueuedBytes);
    }

    /**
     * The delivery backlog: events that may wait for one delivery group.
     *
     * @return the backlog (default 1,024)
     */
    public int getDeliveryBacklog() {
        return deliveryBacklog;
    }

    /**
     * Sets the delivery backlog.
     *
     * @param deliveryBacklog at least 1
     * @throws IllegalArgumentException if it is not
     */
    public void setDeliveryBacklog(int deliveryBacklog) {
        if (deliveryBacklog < 1) {
            throw new IllegalArgumentException("ssekit.delivery-backlog must be at least 1: " + deliveryBacklog);
        }
        this.deliveryBacklog = deliveryBacklog;
    }

    /**
     * The slow-consumer policy.
     *
     * @return the policy (default {@link SlowConsumerPolicy#DISCONNECT})
     */
    public SlowConsumerPolicy getSlowConsumerPolicy() {
        return slowConsumerPolicy;
    }

    /**
     * Sets the slow-consumer policy.
     *
     * @param slowConsumerPolicy the policy
     * @throws IllegalArgumentException if it is null
     */
    public void setSlowConsumerPolicy(SlowConsumerPolicy slowConsumerPolicy) {
        this.slowConsumerPolicy = present("ssekit.slow-consumer-policy", slowConsumerPolicy);
    }

    /**
     * The retry hint of the final event.
     *
     * @return the hint (default 1 s)
     */
    public Duration getShutdownRetry() {
        return shutdownRetry;
    }

    /**
     * Sets the retry hint of the final event.
     *
     * @param shutdownRetry zero or more
     * @throws IllegalArgumentException if it is negative
     */
    public void setShutdownRetry(Duration shutdownRetry) {
        if (present("ssekit.shutdown-retry", shutdownRetry).isNegative()) {
            throw new IllegalArgumentException("ssekit.shutdown-retry must not be negative: " + shutdownRetry);
        }
        this.shutdownRetry = shutdownRetry;
    }

    /**
     * The history settings.
     *
     * @return the history settings, never null
     */
    public History getHistory() {
        return history;
    }

    /**
     * The meter settings.
     *
     * @return the meter settings, never null
     */
    public Metrics getMetrics() {
        return metrics;
    }

    /**
     * A builder configured from these properties.
     *
     * @return a new builder; its other settings are the builder's defaults
     */
    public Broadcaster.Builder toBuilder() {
        return Broadcaster.builder()
                .heartbeat(heartbeat)
                .writeTimeout(writeTimeout)
                .maxQueuedBytes(maxQueuedBytes.toBytes())
                .deliveryBacklog(deliveryBacklog)
                .slowConsumerPolicy(slowConsumerPolicy)
                .shutdownRetry(shutdownRetry)
                .history(history.maxEvents, history.maxBytes.toBytes(), history.maxAge);
    }

    /** {@code ssekit.history.*}: the limits of the in-memory history; the oldest events go first. Not thread-safe. */
    public static final class History {

        /** The most events history keeps. */
        private int maxEvents = 10_000;

        /** The most encoded bytes history keeps. */
        private DataSize maxBytes = DataSize.ofMegabytes(16);

        /** How long history keeps an event. */
        private Duration maxAge = Duration.ofHours(1);

        /** Creates the settings with the builder's defaults. */
        public History() {
        }

        /**
         * The most events kept.
         *
         * @return the count (default 10,000)
         */
        public int getMaxEvents() {
            return maxEvents;
        }

        /**
         * Sets the most events kept.
         *
         * @param maxEvents at least 1
         * @throws IllegalArgumentException if it is not
         */
        public void setMaxEvents(int maxEvents) {
            if (maxEvents < 1) {
                throw new IllegalArgumentException("ssekit.history.max-events must be at least 1: " + maxEvents);
            }
            this.maxEvents = maxEvents;
        }

        /**
         * The most bytes kept.
         *
         * @return the size (default 16 MB)
         */
        public DataSize getMaxBytes() {
            return maxBytes;
        }

        /**
         * Sets the most bytes kept.
         *
         * @param maxBytes at least 1 byte
         * @throws IllegalArgumentException if it is not
         */
        public void setMaxBytes(DataSize maxBytes) {
            this.maxBytes = atLeastOneByte("ssekit.history.max-bytes", maxBytes);
        }

        /**
         * How long an event is kept.
         *
         * @return the age (default 1 hour)
         */
        public Duration getMaxAge() {
            return maxAge;
        }

        /**
         * Sets how long an event is kept.
         *
         * @param maxAge positive
         * @throws IllegalArgumentException if it is not
         */
        public void setMaxAge(Duration maxAge) {
            this.maxAge = positive("ssekit.history.max-age", maxAge);
        }
    }

    /** {@code ssekit.metrics.*}: the Micrometer meters of the broadcaster. Not thread-safe. */
    public static final class Metrics {

        /** Tags added to every ssekit meter, e.g. ssekit.metrics.tags.broadcaster=prices. */
        private Map<String, String> tags = new LinkedHashMap<>();

        /** Creates the settings: no tags. */
        public Metrics() {
        }

        /**
         * The tags added to every meter.
         *
         * @return the tags, name to value; never null
         */
        public Map<String, String> getTags() {
            return tags;
        }

        /**
         * Sets the tags added to every meter.
         *
         * @param tags name to value
         * @throws IllegalArgumentException if it is null
         */
        public void setTags(Map<String, String> tags) {
            this.tags = new LinkedHashMap<>(present("ssekit.metrics.tags", tags));
        }
    }

    private static Duration positive(String property, Duration d) {
        if (present(property, d).isNegative() || d.isZero()) {
            throw new IllegalArgumentException(property + " must be positive: " + d);
        }
        return d;
    }

    private static DataSize atLeastOneByte(String property, DataSize size) {
        if (present(property, size).toBytes() < 1) {
            throw new IllegalArgumentException(property + " must be at least 1 byte: " + size);
        }
        return size;
    }

    private static <T> T present(String property, T value) {
        if (value == null) {
            throw new IllegalArgumentException(property + " must be set");
        }
        return value;
    }
}
