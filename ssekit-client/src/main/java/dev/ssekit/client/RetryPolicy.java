package dev.ssekit.client;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How long an {@link EventSource} waits before it reconnects: the reconnection time as a floor,
 * plus exponential backoff with full jitter above it, all under a cap.
 *
 * <p>The reconnection time {@code r} is the server's last {@code retry:} value, or {@code
 * initialDelay} until the server sent one, but never less than the client's own {@code minDelay}
 * (default 100 ms: a server's {@code retry: 0} cannot turn backoff off) and never more than {@code
 * maxDelay - minDelay}: the cap is the caller's bound and holds against any {@code retry:} (WHATWG
 * lets the client add to the reconnection time, and a server could otherwise freeze it with a huge
 * one). After the n-th consecutive failure the delay is {@code r} plus a uniform draw from {@code
 * [0, w]} with {@code w = max(minDelay, min(r × multiplier^(n-1), maxDelay - r))}: never below
 * what the server asked for (within the bounds), never above {@code maxDelay}, and always with at
 * least {@code minDelay} of jitter. The jitter spreads clients that lost their connection at the
 * same moment evenly over the window above the floor, so a restarted server is not hit by all of
 * them at once. The {@link EventSource} restarts the failure count when a stream delivered an event
 * or stayed open for {@code resetAfter}. All arithmetic saturates, so no {@code retry:} value (up
 * to {@link Long#MAX_VALUE} ms) can overflow it.
 *
 * <p>Immutable and thread-safe.
 */
public final class RetryPolicy {

    private final Duration initialDelay;
    private final Duration minDelay;
    private final Duration maxDelay;
    private final double multiplier;
    private final Duration resetAfter;

    private RetryPolicy(Builder b) {
        this.initialDelay = b.initialDelay;
        this.minDelay = b.minDelay;
        this.maxDelay = b.maxDelay;
        this.multiplier = b.multiplier;
        this.resetAfter = b.resetAfter;
    }

    /**
     * The default: initial delay 1 s, least delay and least jitter 100 ms, cap 30 s, multiplier 2, reset after 60 s of healthy stream.
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
     * @param serverRetry the server's last {@code retry:} value, or null when it sent none; any
     *     non-negative value, however large
     * @param random the source of jitter
     * @return a delay in {@code [floor(serverRetry), ceiling(failures, serverRetry)]}
     * @throws IllegalArgumentException if {@code failures < 1}
     */
    public Duration delay(int failures, Duration serverRetry, RandomGenerator random) {
        long floor = floorNanos(serverRetry);
        long window = windowNanos(failures, floor);
        return Duration.ofNanos(window == 0 ? floor : floor + random.nextLong(window + 1));
    }

    /**
     * The least delay: the reconnection time, at least {@code minDelay} and at most {@code maxDelay
     * - minDelay}.
     *
     * @param serverRetry the server's last {@code retry:} value, or null when it sent none
     * @return {@code min(max(serverRetry or initialDelay, minDelay), maxDelay - minDelay)}
     */
    public Duration floor(Duration serverRetry) {
        return Duration.ofNanos(floorNanos(serverRetry));
    }

    /**
     * The greatest delay after {@code failures} consecutive failures: the top of the jitter window.
     *
     * @param failures consecutive failures so far, at least 1
     * @param serverRetry the server's last {@code retry:} value, or null when it sent none
     * @return {@code r + max(minDelay, min(r × multiplier^(failures-1), maxDelay - r))} with {@code
     *     r} the {@link #floor}; at most {@code maxDelay}
     * @throws IllegalArgumentException if {@code failures < 1}
     */
    public Duration ceiling(int failures, Duration serverRetry) {
        long floor = floorNanos(serverRetry);
        return Duration.ofNanos(floor + windowNanos(failures, floor));
    }

    private long floorNanos(Duration serverRetry) {
        Duration base = serverRetry == null ? initialDelay : serverRetry;
        long least = saturatedNanos(minDelay);
        return Math.min(Math.max(saturatedNanos(base), least), saturatedNanos(maxDelay) - least);
    }

    private long windowNanos(int failures, long floor) {
        if (failures < 1) {
            throw new IllegalArgumentException("failures must be at least 1, got " + failures);
        }
        long least = saturatedNanos(minDelay);
        long room = saturatedNanos(maxDelay) - floor; // floor <= maxDelay - minDelay, so room >= minDelay
        double grown = floor * Math.pow(multiplier, failures - 1); // a double: at worst +Infinity
        return Math.max(least, grown >= room ? room : (long) grown);
    }

    private static long saturatedNanos(Duration d) {
        if (d.isNegative()) {
            return 0;
        }
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * The client's own least reconnection time, which is also the least jitter window.
     *
     * @return the least delay; positive
     */
    public Duration minDelay() {
        return minDelay;
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
        return "RetryPolicy[initialDelay=" + initialDelay + ", minDelay=" + minDelay + ", maxDelay=" + maxDelay + ", multiplier=" + multiplier
                + ", resetAfter=" + resetAfter + "]";
    }

    /** Builds a {@link RetryPolicy}; {@link #build()} validates. Not thread-safe. */
    public static final class Builder {
        private Duration initialDelay = Duration.ofSeconds(1);
        private Duration minDelay = Duration.ofMillis(100);
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
         * The client's own floor under every delay, whatever the server's {@code retry:} (a {@code
         * retry: 0} included), and the least width of the jitter window. Default 100 ms.
         *
         * @param minDelay positive; at most half of {@code maxDelay}
         * @return this builder
         */
        public Builder minDelay(Duration minDelay) {
            this.minDelay = Objects.requireNonNull(minDelay, "minDelay");
            return this;
        }

        /**
         * The cap on every delay, also on a server's {@code retry:} (the floor). Default 30 s.
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
            if (minDelay.isNegative() || minDelay.isZero()) {
                throw new IllegalArgumentException("minDelay must be positive: " + minDelay);
            }
            if (maxDelay.compareTo(minDelay.multipliedBy(2)) < 0) {
                throw new IllegalArgumentException("maxDelay must be at least twice minDelay (" + minDelay + "): " + maxDelay);
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
