package dev.ssekit.client;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How long an {@link EventSource} waits before it reconnects: exponential backoff with full jitter
 * and a cap. After the n-th consecutive failure the delay is drawn uniformly from
 * {@code [0, min(maxDelay, base × multiplier^(n-1))]}, where {@code base} is the server's last
 * {@code retry:} value, or {@code initialDelay} until the server sent one. Full jitter spreads
 * clients that lost their connection at the same moment evenly over the window, so a restarted
 * server is not hit by all of them at once. The failure count restarts when a connection stayed
 * open for {@code resetAfter}.
 *
 * <p>Immutable and thread-safe.
 */
public final class RetryPolicy {

    private final Duration initialDelay;
    private final Duration maxDelay;
    private final double multiplier;
    private final Duration resetAfter;

    private RetryPolicy(Builder b) {
        this.initialDelay = b.initialDelay;
        this.maxDelay = b.maxDelay;
        this.multiplier = b.multiplier;
        this.resetAfter = b.resetAfter;
    }

    /**
     * The default: initial delay 1 s, cap 30 s, multiplier 2, reset after 60 s of healthy stream.
     *
     * @return the default policy
     */
    public static RetryPolicy create() {
        return builder().build();
    }

    /**
     * A builder starting from the defaults of {@link #create()}.
     *
     * @return a new builder; not thread-safe
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The delay before the next attempt.
     *
     * @param failures consecutive failures so far, at least 1
     * @param serverRetry the server's last {@code retry:} value, or null when it sent none
     * @param random the source of jitter
     * @return a delay in {@code [0, ceiling(failures, serverRetry)]}
     * @throws IllegalArgumentException if {@code failures < 1}
     */
    public Duration delay(int failures, Duration serverRetry, RandomGenerator random) {
        long ceiling = ceiling(failures, serverRetry).toNanos();
        return ceiling == 0 ? Duration.ZERO : Duration.ofNanos(random.nextLong(ceiling + 1));
    }

    /**
     * The upper bound of the jitter window after {@code failures} consecutive failures.
     *
     * @param failures consecutive failures so far, at least 1
     * @param serverRetry the server's last {@code retry:} value, or null when it sent none
     * @return {@code min(maxDelay, base × multiplier^(failures-1))}
     * @throws IllegalArgumentException if {@code failures < 1}
     */
    public Duration ceiling(int failures, Duration serverRetry) {
        if (failures < 1) {
            throw new IllegalArgumentException("failures must be at least 1, got " + failures);
        }
        Duration base = serverRetry == null ? initialDelay : serverRetry;
        double nanos = base.toNanos() * Math.pow(multiplier, failures - 1);
        long max = maxDelay.toNanos();
        return Duration.ofNanos(nanos >= max ? max : (long) nanos);
    }

    /**
     * How long a connection must stay open for the failure count to start again from zero.
     *
     * @return the healthy period
     */
    public Duration resetAfter() {
        return resetAfter;
    }

    @Override
    public String toString() {
        return "RetryPolicy[initialDelay=" + initialDelay + ", maxDelay=" + maxDelay + ", multiplier=" + multiplier
                + ", resetAfter=" + resetAfter + "]";
    }

    /** Builds a {@link RetryPolicy}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private Duration initialDelay = Duration.ofSeconds(1);
        private Duration maxDelay = Duration.ofSeconds(30);
        private double multiplier = 2;
        private Duration resetAfter = Duration.ofSeconds(60);

        private Builder() {
        }

        /**
         * The base delay until the server sends {@code retry:}.
         *
         * @param initialDelay at least zero
         * @return this builder
         */
        public Builder initialDelay(Duration initialDelay) {
            this.initialDelay = Objects.requireNonNull(initialDelay, "initialDelay");
            return this;
        }

        /**
         * The cap on the jitter window.
         *
         * @param maxDelay at least {@code initialDelay}
         * @return this builder
         */
        public Builder maxDelay(Duration maxDelay) {
            this.maxDelay = Objects.requireNonNull(maxDelay, "maxDelay");
            return this;
        }

        /**
         * The growth of the window per consecutive failure.
         *
         * @param multiplier at least 1
         * @return this builder
         */
        public Builder multiplier(double multiplier) {
            this.multiplier = multiplier;
            return this;
        }

        /**
         * How long a connection must stay open for the failure count to reset.
         *
         * @param resetAfter positive
         * @return this builder
         */
        public Builder resetAfter(Duration resetAfter) {
            this.resetAfter = Objects.requireNonNull(resetAfter, "resetAfter");
            return this;
        }

        /**
         * Validates and builds.
         *
         * @return the policy
         * @throws IllegalArgumentException naming the setting and its value when one is out of range
         */
        public RetryPolicy build() {
            if (initialDelay.isNegative()) {
                throw new IllegalArgumentException("initialDelay must not be negative: " + initialDelay);
            }
            if (maxDelay.compareTo(initialDelay) < 0) {
                throw new IllegalArgumentException("maxDelay must be at least initialDelay (" + initialDelay + "): " + maxDelay);
            }
            if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
                throw new IllegalArgumentException("multiplier must be a finite number >= 1: " + multiplier);
            }
            if (resetAfter.isNegative() || resetAfter.isZero()) {
                throw new IllegalArgumentException("resetAfter must be positive: " + resetAfter);
            }
            return new RetryPolicy(this);
        }
    }
}
