package dev.ssekit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A delivery group takes the events waiting in its inbox in segments (consecutive events for the
 * same topics and restriction, matched once and offered together). Driven step by step, as a Netty
 * event loop would run the group and the writes: everything is published while the loop is held,
 * so one run of the group sees the whole mix at once. No sleeps, no timing.
 */
@Timeout(30)
class DeliverySegmentTest {

    private static void publish(Broadcaster b, String id, boolean restricted, String... topics) {
        b.publish(SseMessage.builder().id(id).data(id).build(), List.of(topics), restricted);
    }

    private static LoopTransport subscriber(Broadcaster b, StepLoop loop, List<TopicSelector> topics, List<TopicSelector> authorized) {
        LoopTransport t = new LoopTransport(loop);
        b.subscription(Sse.open(t)).topics(topics).authorizedFor(authorized).start();
        return t;
    }

    @Test
    void interleavedAudiencesEachGetTheirEventsOnceAndInOrder() {
        try (Broadcaster b = Broadcaster.create()) {
            StepLoop loop = new StepLoop();
            TopicSelector a = TopicSelector.exact("a");
            TopicSelector bb = TopicSelector.exact("b");
            LoopTransport onA = subscriber(b, loop, List.of(a), List.of());
            LoopTransport onB = subscriber(b, loop, List.of(bb), List.of(bb));
            // both topics, authorized for a: e4 (both topics) matches it twice, through each topic
            LoopTransport onBoth = subscriber(b, loop, List.of(a, bb), List.of(a));
            LoopTransport onAll = subscriber(b, loop, List.of(TopicSelector.all()), List.of());
            LoopTransport onGlob = subscriber(b, loop, List.of(TopicSelector.glob("*")), List.of(bb));
            loop.runPending(); // the subscribers' opening bytes

            publish(b, "e1", false, "a");
            publish(b, "e2", false, "a");
            publish(b, "e3", true, "b");
            publish(b, "e4", false, "a", "b");
            publish(b, "e5", false, "b");
            publish(b, "e6", true, "a");
            publish(b, "e7", false, "a");
            publish(b, "e8", false, "b", "a"); // the same audience as e4, its topics named in another order
            publish(b, "e9", false, "a");
            assertThat(b.stats().backlog()).as("all wait for one run of the group").isEqualTo(9);
            loop.runPending();

            assertThat(onA.ids()).containsExactly("e1", "e2", "e4", "e7", "e8", "e9");
            assertThat(onB.ids()).containsExactly("e3", "e4", "e5", "e8");
            assertThat(onBoth.ids()).containsExactly("e1", "e2", "e4", "e5", "e6", "e7", "e8", "e9");
            assertThat(onAll.ids()).containsExactly("e1", "e2", "e4", "e5", "e7", "e8", "e9");
            assertThat(onGlob.ids()).containsExactly("e1", "e2", "e3", "e4", "e5", "e7", "e8", "e9");
        }
    }

    @Test
    void aSubscriberEvictedInTheMiddleOfASegmentTakesNothingMoreAndTheOthersLoseNothing() {
        // a subscriber's bound of 8 KiB (so a group's inbox holds 2 KiB, a run takes 4 KiB)
        try (Broadcaster b = Broadcaster.builder().maxQueuedBytes(8 * 1024).build()) {
            StepLoop loop = new StepLoop();
            LoopTransport healthy = subscriber(b, loop, List.of(TopicSelector.exact("x")), List.of());
            LoopTransport stuck = subscriber(b, loop, List.of(TopicSelector.exact("x")), List.of());
            stuck.stall();
            loop.runPending();
            publish(b, "e0", false, "x");
            loop.runPending(); // the stuck one's write takes e0 and never completes
            b.publish(SseMessage.builder().id("e1").data("k".repeat(7000)).build(), Set.of("x"), false);
            loop.runPending(); // 7 KB wait in the stuck one's queue
            for (int i = 2; i <= 5; i++) { // one segment of four 0.4 KB events: the third passes 8 KiB
                b.publish(SseMessage.builder().id("e" + i).data("k".repeat(400)).build(), Set.of("x"), false);
            }
            loop.runPending();

            assertThat(b.stats().evictions().get(CloseReason.SLOW_CONSUMER)).isEqualTo(1L);
            assertThat(b.stats().connections()).isEqualTo(1);
            assertThat(stuck.ids()).containsExactly("e0");
            assertThat(healthy.ids()).containsExactly("e0", "e1", "e2", "e3", "e4", "e5");
        }
    }
}
