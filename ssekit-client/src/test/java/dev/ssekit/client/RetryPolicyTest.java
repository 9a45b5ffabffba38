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
                assertThat(p.delay(failures, retry, random)).isEqualTo(Duration.ofMillis(500));
                assertThat(p.ceiling(failures, retry)).isEqualTo(Duration.ofMillis(500));
            }
        }
        RetryPolicy huge = RetryPolicy.builder().maxDelay(Duration.ofSeconds(Long.MAX_VALUE)).build();
        assertThat(huge.ceiling(Integer.MAX_VALUE, Duration.ofMillis(Long.MAX_VALUE)).toNanos()).isEqualTo(Long.MAX_VALUE);
    }
}
