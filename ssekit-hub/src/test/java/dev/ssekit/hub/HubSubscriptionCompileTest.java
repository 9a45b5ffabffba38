package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #28's load at a CI size, over sockets: anonymous subscribers whose selectors all need
 * compiling (distinct URL patterns filling {@link SubscribeMatchers#MAX_PATTERN_BYTES}, in a QUERY
 * body) connect at once to a Mercure 1.0 hub with subscription events on, several per event loop;
 * meanwhile a {@code /healthz} on a new connection (the server hands connections to its event loops
 * in turn) is answered while each event loop still has subscriptions it read before it unanswered:
 * it did not wait behind their compiling. And the event loops spend a small part of the CPU the
 * compiling takes (it runs on the hub's compiler threads). Every subscription still gets its stream.
 * Asserts no wall-clock speed.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubSubscriptionCompileTest {

    /** The server's event loops (NettySseServer's default: one per processor). */
    private static final int LOOPS = Runtime.getRuntime().availableProcessors();
    /** Six subscribers per event loop. */
    private static final int SUBSCRIBERS = 6 * LOOPS;
    private HubOverSockets hub;

    @AfterEach
    void stop() throws Exception {
        if (hub != null) {
            hub.close();
        }
    }

    private Socket connect() throws Exception {
        return hub.connect();
    }

    /** The CPU time so far of the live threads whose name starts with {@code prefix}. */
    private static long cpu(String prefix) {
        var threads = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (java.lang.management.ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (t != null && t.getThreadName().startsWith(prefix)) {
                sum += Math.max(0, threads.getThreadCpuTime(t.getThreadId()));
            }
        }
        return sum;
    }

    private void startHub() {
        hub = HubOverSockets.forQueries(true, true, c -> c, ConnectionLifetime.Settings.NONE);
    }

    /** Sends an anonymous QUERY whose body fills the pattern budget with distinct URL patterns (seed {@code s}). */
    private Socket costlyQuery(int s) throws Exception {
        return hub.query("", MatcherWorstCaseTest.body(SubscribeMatchers.MAX_PATTERN_BYTES / MatcherStore.MAX_BYTES,
                i -> MatcherWorstCaseTest.groups(s * 1000 + i, MatcherStore.MAX_BYTES)));
    }

    /**
     * The adversarial review of issue #28's fix: the compile pool's queue was unbounded, so anonymous
     * clients sending costly subscriptions faster than one compile thread decides them (about five
     * 32 KiB subscriptions a second) grew it without end, and every later subscription, token-bearing
     * ones included, waited behind them. The work waiting to be compiled is bounded
     * ({@link MercureProtocol#MAX_PENDING_COMPILE_BYTES}): past it a subscription is refused at once
     * with 503 and a {@code Retry-After}, and the budget comes back as the compiles end.
     */
    @Test
    void costlySubscriptionsPastTheCompileBudgetAreRefusedAtOnce() throws Exception {
        startHub();
        int n = (int) (3 * MercureProtocol.MAX_PENDING_COMPILE_BYTES / SubscribeMatchers.MAX_PATTERN_BYTES);
        List<Socket> flood = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            flood.add(costlyQuery(k));
        }
        int refused = 0;
        for (Socket s : flood) {
            String status = HubOverSockets.statusLine(s);
            assertThat(status).isIn("HTTP/1.1 200 OK", "HTTP/1.1 503 Service Unavailable");
            if (status.endsWith("503 Service Unavailable")) {
                refused++;
                String rest = HubSockets.response(s);
                assertThat(rest).containsIgnoringCase("Retry-After:");
            }
        }
        assertThat(refused).as("of %d subscriptions of 32 KiB sent at once (three times the budget), refused at once", n)
                .isGreaterThan(0);
        assertThat(HubOverSockets.statusLine(costlyQuery(n))).as("the budget is back once the compiles ended").isEqualTo("HTTP/1.1 200 OK");
    }

    @Test
    void aHealthCheckIsAnsweredWhileAnonymousSubscriptionsCompile() throws Exception {
        startHub();
        String loops = "multiThreadIoEventLoopGroup-";
        long loopsBefore = cpu(loops);
        long compilersBefore = cpu(MercureProtocol.COMPILER_THREAD);
        List<Socket> subscribers = new ArrayList<>();
        for (int k = 0; k < SUBSCRIBERS; k++) {
            subscribers.add(costlyQuery(k));
        }
        Thread.sleep(500); // the event loops have read the subscriptions (a few hundred KiB) and are deciding them

        Socket health = connect();
        HubSockets.send(health, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
        String answer = HubSockets.response(health);
        // connections k, k + LOOPS, k + 2 LOOPS... share an event loop (Netty's round-robin): the health
        // check's loop is one of these classes; it must have answered it before all of that class
        java.util.Map<Integer, Integer> unanswered = new java.util.TreeMap<>();
        for (int k = 0; k < SUBSCRIBERS; k++) {
            unanswered.merge(k % LOOPS, subscribers.get(k).getInputStream().available() > 0 ? 0 : 1, Integer::sum);
        }
        assertThat(answer).startsWith("HTTP/1.1 200");
        assertThat(unanswered.values()).as("subscriptions still unanswered, by event loop, when the health check sent after them"
                + " was answered (none: it waited behind their compiling)").allMatch(n -> n > 0);

        for (Socket s : subscribers) {
            assertThat(HubOverSockets.statusLine(s)).isEqualTo("HTTP/1.1 200 OK");
        }
        long loopsCpu = cpu(loops) - loopsBefore;
        long compilersCpu = cpu(MercureProtocol.COMPILER_THREAD) - compilersBefore;
        System.out.printf(java.util.Locale.ROOT, "%d subscriptions of 32 KiB of URL patterns: event loops %.1f ms CPU, compiler threads"
                + " %.1f ms CPU%n", SUBSCRIBERS, loopsCpu / 1e6, compilersCpu / 1e6);
        assertThat(loopsCpu).as("CPU of the event loops (ns) against the compiler threads' %d ns", compilersCpu)
                .isLessThan(compilersCpu / 2);
    }
}
