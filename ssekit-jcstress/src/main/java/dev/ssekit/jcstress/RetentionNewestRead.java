package dev.ssekit.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ssekit.spi.StoredEvent;
import java.util.List;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * The lock-free {@link Retention#lastSequence()} against an append, as {@code
 * Broadcaster.lastEventId()} and a live subscriber's start read it: the newest sequence read must
 * be served by {@code after(newest - 1)} (the event is in history before its sequence is visible).
 * Results: the sequence read, whether {@code after} served that event first.
 */
@JCStressTest
@Outcome(id = "2, 1", expect = ACCEPTABLE, desc = "read before the append")
@Outcome(id = "3, 1", expect = ACCEPTABLE, desc = "read after the append")
@Outcome(expect = FORBIDDEN, desc = "a newest sequence history does not serve")
@State
public class RetentionNewestRead extends TwoEventHistory {

    /** A history holding events 1 and 2. */
    public RetentionNewestRead() {
        super();
    }

    /** Appends event 3 (event 1 leaves). */
    @Actor
    public void appender() {
        history.add(event(3));
    }

    /** Reads the newest sequence, then history from just before it. */
    @Actor
    public void reader(II_Result r) {
        long newest = history.lastSequence();
        List<StoredEvent> tail = history.after(newest - 1);
        r.r1 = (int) newest;
        r.r2 = !tail.isEmpty() && tail.getFirst().sequence() == newest ? 1 : 0;
    }
}
