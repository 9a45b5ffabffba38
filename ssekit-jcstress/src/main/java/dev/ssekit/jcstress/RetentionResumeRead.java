package dev.ssekit.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.ssekit.spi.StoredEvent;
import java.util.List;
import java.util.OptionalLong;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The log's read path under appends, as a resume plans on it (issue #27, defect 5): {@code s =
 * sequenceOf(id)}, {@code after(s)}, {@code sequenceOf(id)} again, while an appender adds two
 * events to a history of two (pushing the resume point and its successor out). Results: whether
 * the id was found, the first sequence {@code after} returned (-1 when not read), whether the id
 * was still found after it. The planner's rule: a resume point still held after the read means the
 * read has no gap; this test forbids the outcome that would break it.
 */
@JCStressTest
@Outcome(id = "1, 2, 1", expect = ACCEPTABLE, desc = "read before the appends: the replay starts right after the resume point")
@Outcome(id = "1, 2, 0", expect = ACCEPTABLE, desc = "the resume point went after the read: the planner resets, no harm")
@Outcome(id = "1, 3, 0", expect = ACCEPTABLE_INTERESTING,
        desc = "defect 5's window: a plan of two separate reads would skip event 2; the re-check sees the point gone")
@Outcome(id = "1, 4, 0", expect = ACCEPTABLE_INTERESTING, desc = "the same window, wider: 2 and 3 gone")
@Outcome(id = "0, -1, 0", expect = ACCEPTABLE, desc = "the resume point was gone before the first read")
@Outcome(id = "1, 3, 1", expect = FORBIDDEN, desc = "a gap the re-check does not see")
@Outcome(id = "1, 4, 1", expect = FORBIDDEN, desc = "a gap the re-check does not see")
@Outcome(expect = FORBIDDEN, desc = "anything else")
@State
public class RetentionResumeRead extends TwoEventHistory {

    /** A history holding events 1 and 2. */
    public RetentionResumeRead() {
        super();
    }

    /** Appends 3 and 4: 1 and then 2 leave the history of two. */
    @Actor
    public void appender() {
        history.add(event(3));
        history.add(event(4));
    }

    /** Plans a resume from event 1 as {@code ResumePlanner} does. */
    @Actor
    public void resumer(III_Result r) {
        OptionalLong s = history.sequenceOf("e-1");
        if (s.isEmpty()) {
            r.r1 = 0;
            r.r2 = -1;
            r.r3 = 0;
            return;
        }
        List<StoredEvent> replay = history.after(s.getAsLong());
        r.r1 = 1;
        r.r2 = replay.isEmpty() ? -1 : (int) replay.getFirst().sequence();
        r.r3 = history.sequenceOf("e-1").equals(s) ? 1 : 0;
    }
}
