package dev.ssekit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Selectors filed under a key of a {@link TopicSelector.Index} (issue #24): a broadcaster delivers
 * to them exactly what it delivers to the same rules unindexed, and exactly what the rules say,
 * through random subscribers (keyed, unkeyed, exact, every topic, several keys at once, keyed
 * authorizations), random events (one or two topics, restricted or not) and subscribers cancelled
 * in between; and it asks the index only while keyed selectors are filed.
 */
@Timeout(60)
class KeyedSelectorIndexTest {

    private static final String[] FIRST = {"a", "b", "c", "ab"};
    private static final String[] REST = {"", "/*", "/**", "/x", "/x/*", "/y"};
    private static final String[] TOPIC_REST = {"", "/x", "/y", "/x/1", "/x/2/3", "/z"};

    /** Files a glob under its first segment (literal in every glob here). */
    private static final class FirstSegment implements TopicSelector.Index {
        final AtomicInteger asked = new AtomicInteger();

        @Override
        public void keys(String topic, java.util.function.Consumer<Object> action) {
            asked.incrementAndGet();
            int slash = topic.indexOf('/');
            action.accept(slash < 0 ? topic : topic.substring(0, slash));
        }
    }

    /** One subscriber's rules, as the model reads them. */
    private record Rules(List<Predicate<String>> selectors, List<Predicate<String>> authorized) {
        boolean accepts(List<String> topics, boolean restricted) {
            return any(selectors, topics) && (!restricted || any(authorized, topics));
        }

        private static boolean any(List<Predicate<String>> rules, List<String> topics) {
            return rules.stream().anyMatch(r -> topics.stream().anyMatch(r));
        }
    }

    @Test
    void keyedSelectorsGetExactlyWhatTheirRulesAndTheirUnkeyedTwinsGet() {
        for (long seed = 1; seed <= 20; seed++) {
            run(seed);
        }
    }

    private static void run(long seed) {
        Random r = new Random(seed);
        FirstSegment index = new FirstSegment();
        try (Broadcaster b = Broadcaster.create()) {
            StepLoop loop = new StepLoop();
            List<LoopTransport> keyed = new ArrayList<>();
            List<LoopTransport> twins = new ArrayList<>();
            List<Rules> rules = new ArrayList<>();
            List<Subscription[]> subscriptions = new ArrayList<>();
            List<List<String>> expected = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                List<TopicSelector> k = new ArrayList<>();
                List<TopicSelector> u = new ArrayList<>();
                List<Predicate<String>> m = new ArrayList<>();
                int n = 1 + r.nextInt(3);
                for (int j = 0; j < n; j++) {
                    int kind = r.nextInt(10);
                    if (kind == 0) {
                        String t = pick(r, FIRST) + pick(r, TOPIC_REST);
                        k.add(TopicSelector.exact(t));
                        u.add(TopicSelector.exact(t));
                        m.add(t::equals);
                    } else if (kind == 1 && r.nextInt(3) == 0) {
                        k.add(TopicSelector.all());
                        u.add(TopicSelector.all());
                        m.add(t -> true);
                    } else {
                        String first = pick(r, FIRST);
                        String glob = first + pick(r, REST);
                        TopicSelector g = TopicSelector.glob(glob);
                        k.add(TopicSelector.of(glob, g::matches, index, first));
                        u.add(kind == 2 ? g : TopicSelector.of(glob, g::matches));
                        m.add(g::matches);
                    }
                }
                List<TopicSelector> ka = new ArrayList<>();
                List<TopicSelector> ua = new ArrayList<>();
                List<Predicate<String>> ma = new ArrayList<>();
                if (r.nextBoolean()) {
                    String first = pick(r, FIRST);
                    TopicSelector g = TopicSelector.glob(first + "/**");
                    ka.add(TopicSelector.of(first + "/**", g::matches, index, first));
                    ua.add(g);
                    ma.add(g::matches);
                }
                LoopTransport tk = new LoopTransport(loop);
                LoopTransport tu = new LoopTransport(loop);
                Subscription sk = b.subscription(Sse.open(tk)).topics(k).authorizedFor(ka).start();
                Subscription su = b.subscription(Sse.open(tu)).topics(u).authorizedFor(ua).start();
                keyed.add(tk);
                twins.add(tu);
                rules.add(new Rules(m, ma));
                subscriptions.add(new Subscription[] {sk, su});
                expected.add(new ArrayList<>());
            }
            loop.runPending();
            boolean[] cancelled = new boolean[rules.size()];
            for (int e = 0; e < 120; e++) {
                if (e % 20 == 19) {
                    int c = r.nextInt(rules.size());
                    if (!cancelled[c]) {
                        cancelled[c] = true;
                        subscriptions.get(c)[0].cancel();
                        subscriptions.get(c)[1].cancel();
                    }
                }
                List<String> topics = new ArrayList<>();
                topics.add(pick(r, FIRST) + pick(r, TOPIC_REST));
                if (r.nextInt(3) == 0) {
                    String second = pick(r, FIRST) + pick(r, TOPIC_REST);
                    if (!topics.contains(second)) {
                        topics.add(second);
                    }
                }
                boolean restricted = r.nextInt(3) == 0;
                String id = "e" + e;
                b.publish(SseMessage.builder().id(id).data(id).build(), topics, restricted);
                for (int i = 0; i < rules.size(); i++) {
                    if (!cancelled[i] && rules.get(i).accepts(topics, restricted)) {
                        expected.get(i).add(id);
                    }
                }
                loop.runPending();
            }
            int delivered = 0;
            for (int i = 0; i < rules.size(); i++) {
                if (!cancelled[i]) {
                    assertEquals(expected.get(i), keyed.get(i).ids(), "seed " + seed + " keyed subscriber " + i + " " + rules.get(i));
                    assertEquals(expected.get(i), twins.get(i).ids(), "seed " + seed + " unkeyed twin " + i);
                    delivered += expected.get(i).size();
                }
            }
            assertThat(delivered).as("seed " + seed + ": deliveries").isGreaterThan(50);
            assertThat(index.asked.get()).as("the index was asked").isPositive();
            for (Subscription[] s : subscriptions) {
                s[0].cancel();
                s[1].cancel();
            }
            loop.runPending();
            int asked = index.asked.get();
            b.publish(SseMessage.builder().id("last").data("x").build(), List.of("a/x"), false);
            loop.runPending();
            assertThat(index.asked.get()).as("no keyed selector filed: the index is not asked").isEqualTo(asked);
        }
    }

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }
}
