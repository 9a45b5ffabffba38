package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.random.RandomGenerator;
import java.util.random.RandomGeneratorFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** RetryPolicy's arithmetic (issue #17 items 1, 2): the server's retry is a floor, the cap holds, nothing overflows. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RetryPolicyTest {

    @Test
    void jitterNeverGoesBelowTheServersRetry() {
        RetryPolicy p = RetryPolicy.create();
        RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(17);
        Duration retry = Duration.ofMillis(1200);
        for (int failures = 1; failures <= 10; failures++) {
            for (int i = 0; i < 2000; i++) {
                assertThat(p.delay(failures, retry, random)).as("failure %d", failures)
                        .isBetween(retry, p.ceiling(failures, retry));
            }
        }
        assertThat(p.ceiling(1, retry)).isEqualTo(Duration.ofMillis(2400)); // the window above the floor is r
        assertThat(p.ceiling(2, retry)).isEqualTo(Duration.ofMillis(3600));
        assertThat(p.ceiling(10, retry)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void hugeRetriesAreCappedWithoutOverflow() {
        RetryPolicy p = RetryPolicy.builder().initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofMillis(500)).build();
        RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(1);
        for (Duration retry : new Duration[] {Duration.ofMillis(10_000_000_000_000L), Duration.ofMillis(Long.MAX_VALUE)}) {
            for (int failures : new int[] {1, 2, 64, Integer.MAX_VALUE}) {
                // the floor is capped at maxDelay - minDelay, so that jitter always remains
                assertThat(p.delay(failures, retry, random)).isBetween(Duration.ofMillis(400), Duration.ofMillis(500));
                assertThat(p.ceiling(failures, retry)).isEqualTo(Duration.ofMillis(500));
            }
        }
        RetryPolicy huge = RetryPolicy.builder().maxDelay(Duration.ofSeconds(Long.MAX_VALUE)).build();
        assertThat(huge.ceiling(Integer.MAX_VALUE, Duration.ofMillis(Long.MAX_VALUE)).toNanos()).isEqualTo(Long.MAX_VALUE);
    }

    /** Issue #30 defect 1: retry: 0 kept the floor and the window at zero for good. */
    @Test
    void retryZeroKeepsTheClientsOwnFloorAndJitterAndBackoffStillGrows() {
        RetryPolicy p = RetryPolicy.create();
        RandomGenerator random = RandomGeneratorFactory.of("L64X128MixRandom").create(30);
        assertThat(p.floor(Duration.ZERO)).isEqualTo(Duration.ofMillis(100));
        assertThat(p.ceiling(1, Duration.ZERO)).isEqualTo(Duration.ofMillis(200));
        assertThat(p.ceiling(5, Duration.ZERO)).isEqualTo(Duration.ofMillis(1700));
        assertThat(p.ceiling(20, Duration.ZERO)).isEqualTo(Duration.ofSeconds(30));
        long distinct = java.util.stream.IntStream.range(0, 200).mapToObj(i -> p.delay(1, Duration.ZERO, random)).distinct().count();
        assertThat(distinct).as("jitter").isGreaterThan(100);
        // a retry at the cap still leaves a jitter window
        assertThat(p.floor(Duration.ofSeconds(30))).isEqualTo(Duration.ofMillis(29_900));
        assertThat(p.ceiling(1, Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void minDelayIsValidated() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RetryPolicy.builder().minDelay(Duration.ZERO).build())
                .hasMessage("minDelay must be positive: PT0S");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RetryPolicy.builder().minDelay(Duration.ofSeconds(20)).build())
                .hasMessage("maxDelay must be at least twice minDelay (PT20S): PT30S");
    }
}
