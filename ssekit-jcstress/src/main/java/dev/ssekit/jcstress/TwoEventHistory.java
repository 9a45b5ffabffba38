package dev.ssekit.jcstress;

import dev.ssekit.spi.Retention;
import dev.ssekit.spi.StoredEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;

/**
 * The state {@link RetentionNewestRead} and {@link RetentionResumeRead} share: a history of at most
 * two events (no byte or age bound that could matter), holding events 1 and 2 on topic {@code t},
 * ids {@code e-1}, {@code e-2}.
 */
abstract class TwoEventHistory {

    private static final byte[] FRAME = "data: x\n\n".getBytes(StandardCharsets.UTF_8);

    /** The history under test. */
    final Retention history = new Retention(2, 1 << 20, Duration.ofHours(1), () -> 0L, "e");

    TwoEventHistory() {
        history.add(event(1));
        history.add(event(2));
    }

    /** Event {@code seq}: id {@code e-<seq>}, topic {@code t}. */
    static StoredEvent event(long seq) {
        return new StoredEvent(seq, "e-" + seq, Set.of("t"), FRAME, 0L, false);
    }
}
