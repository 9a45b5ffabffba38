package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The log line's time is exactly {@link Instant#toString()}, also with the per-second prefix reused. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LogFormatTest {

    @Test
    void timesAreInstantToStringWhateverTheFraction() {
        LogFormat text = new LogFormat(false);
        List<Instant> times = new ArrayList<>(List.of(Instant.EPOCH, Instant.ofEpochSecond(0, 1), Instant.ofEpochSecond(-1, 999_999_999),
                Instant.parse("2026-12-01T15:55:58.381088412Z"), Instant.parse("2026-12-01T15:55:58.381Z"),
                Instant.parse("2026-12-01T15:55:58.381088Z"), Instant.parse("2026-12-01T15:55:58.000000001Z"),
                Instant.parse("2026-12-01T15:55:58.010Z"), Instant.parse("2026-12-01T15:55:58.000010Z"),
                Instant.parse("9999-12-31T23:59:59.999999999Z"), Instant.parse("+10000-01-01T00:00:00.5Z"),
                Instant.parse("-0001-06-01T12:00:00.25Z"), Instant.MAX, Instant.MIN));
        SplittableRandom random = new SplittableRandom(15);
        long now = Instant.parse("2026-12-01T00:00:00Z").getEpochSecond();
        for (int i = 0; i < 10_000; i++) {
            // runs within a second (the cached prefix), across seconds, and with 3, 6 and 9 digit fractions
            long second = now + random.nextInt(3);
            int nano = switch (random.nextInt(4)) {
                case 0 -> random.nextInt(1000) * 1_000_000;
                case 1 -> random.nextInt(1_000_000) * 1_000;
                case 2 -> 0;
                default -> random.nextInt(1_000_000_000);
            };
            times.add(Instant.ofEpochSecond(second, nano));
        }
        for (Instant t : times) {
            assertThat(text.time(t)).as("%s", t).isEqualTo(t.toString());
        }
    }

    @Test
    void textAndJsonLines() {
        LogRecord r = new LogRecord(Level.INFO, "127.0.0.1:5 \"POST /.well-known/mercure HTTP/1.1\" 200 45 3ms");
        r.setLoggerName(AccessLog.LOGGER);
        r.setInstant(Instant.parse("2026-12-01T15:55:58.381088412Z"));
        assertThat(new LogFormat(false).format(r)).isEqualTo("2026-12-01T15:55:58.381088412Z INFO dev.ssekit.hub.access "
                + "127.0.0.1:5 \"POST /.well-known/mercure HTTP/1.1\" 200 45 3ms\n");
        assertThat(new LogFormat(true).format(r)).isEqualTo("{\"time\":\"2026-12-01T15:55:58.381088412Z\",\"level\":\"INFO\","
                + "\"logger\":\"dev.ssekit.hub.access\",\"message\":\"127.0.0.1:5 \\\"POST /.well-known/mercure HTTP/1.1\\\" 200 45 3ms\"}\n");
    }
}
