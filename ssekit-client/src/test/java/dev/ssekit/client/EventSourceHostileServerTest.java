package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.testkit.ManualScheduler;
import dev.ssekit.testkit.Recorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Issue #17: the client against servers that send what they should not, over real sockets. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EventSourceHostileServerTest {

    /** Always draws the bottom of the jitter window. */
    static final RandomGenerator BOTTOM_OF_WINDOW = new RandomGenerator() {
        @Override
        public long nextLong() {
            return 0;
        }

        @Override
        public long nextLong(long bound) {
            return 0;
        }
    };

    private ScriptedServer server;
    private ManualScheduler time;
    private final List<EventSource> sources = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        server = new ScriptedServer();
        time = new ManualScheduler();
    }

    @AfterEach
    void tearDown() {
        sources.forEach(EventSource::close);
        server.close();
    }

    private EventSource.Builder source() {
        return EventSource.builder(server.uri("/sse")).scheduler(time).ticker(time).readTimeout(Duration.ZERO)
                .random(EventSourceTest.TOP_OF_WINDOW);
    }

    private EventSource start(EventSource.Builder b, RecordingListener l) {
        EventSource s = b.build();
        sources.add(s);
        s.start(l);
        return s;
    }

    private static String msg(String data) {
        return Recorder.event("message", "", data);
    }

    /** Item 1: 10^13 ms overflowed Duration.toNanos() in RetryPolicy; the error was lost and the client froze. */
    @ParameterizedTest
    @ValueSource(strings = {"10000000000000", "99999999999999999999999"})
    void aHugeRetryIsCappedByMaxDelayAndTheClientReconnects(String retry) throws Exception {
        server.enqueue(ScriptedServer.Response.events("retry: " + retry + "\ndata: a\n\n"));
        server.stream(ScriptedServer.Response.events("data: b\n\n"));
        RecordingListener l = new RecordingListener();
        EventSource s = start(source().retryPolicy(RetryPolicy.builder().initialDelay(Duration.ofMillis(100))
                .maxDelay(Duration.ofMillis(500)).build()), l);
        l.expect("open 200", msg("a"), "error StreamEndedException");
        assertThat(time.nextDelay()).isEqualTo(Duration.ofMillis(500));
        assertThat(s.state()).isEqualTo(EventSource.State.CONNECTING);
        time.advance(Duration.ofMillis(500));
        l.expect("open 200", msg("b"));
    }

    /** Item 1, the failure path: an exception while scheduling the reconnect closes the source, never vanishes. */
    @Test
    void aSchedulerThatRefusesTheReconnectClosesTheSourceInsteadOfFreezingIt() throws Exception {
        ScheduledExecutorService shutDown = Executors.newSingleThreadScheduledExecutor();
        shutDown.shutdown(); // a real executor that rejects everything from now on
        server.enqueue(ScriptedServer.Response.events("data: a\n\n"));
        RecordingListener l = new RecordingListener();
        EventSource s = start(EventSource.builder(server.uri("/sse")).readTimeout(Duration.ZERO)
                .scheduler((task, delay) -> shutDown.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS)), l);
        l.expect("open 200", msg("a"), "error StreamEndedException", "closed StreamEndedException");
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
        l.expectNothingMore();
    }

    /** Item 2: full jitter drew from [0, retry]; the reconnection time is a floor (WHATWG 9.2.3). */
    @Test
    void jitterNeverGoesBelowTheServersRetry() throws Exception {
        server.enqueue(ScriptedServer.Response.events("retry: 1200\ndata: a\n\n"));
        server.enqueue(ScriptedServer.Response.status(503));
        server.stream(ScriptedServer.Response.events("data: b\n\n"));
        RecordingListener l = new RecordingListener();
        start(source().random(BOTTOM_OF_WINDOW), l);
        l.expect("open 200", msg("a"), "error StreamEndedException");
        assertThat(time.nextDelay()).isEqualTo(Duration.ofMillis(1200));
        time.advance(Duration.ofMillis(1199));
        assertThat(server.requests).hasSize(1); // not back early
        time.advance(Duration.ofMillis(1));
        l.expect("error StreamHttpException");
        assertThat(time.nextDelay()).as("second failure, still not below the floor").isEqualTo(Duration.ofMillis(1200));
        time.advance(Duration.ofMillis(1200));
        l.expect("open 200", msg("b"));
    }

    /** Item 5: a server that never sends a newline no longer grows the client without limit. */
    @Test
    void aLineThatNeverEndsFailsTheStreamWithATypedError() throws Exception {
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events("data: ok\n\n"));
        RecordingListener l = new RecordingListener();
        EventSource s = start(source().maxEventSize(64 * 1024), l);
        l.expect("open 200", msg("ok"));
        String chunk = "x".repeat(16 * 1024);
        for (int i = 0; i < 8; i++) {
            stream.send(chunk); // 128 KiB, no newline
        }
        l.expect("error StreamTooLargeException", "closed StreamTooLargeException");
        StreamTooLargeException e = (StreamTooLargeException) l.errors.take();
        assertThat(e.maxEventSize()).isEqualTo(64 * 1024);
        assertThat(e.isRetryable()).isFalse();
        assertThat(s.state()).isEqualTo(EventSource.State.CLOSED);
        assertThat(stream.awaitDisconnect()).as("the connection was dropped").isTrue();
    }

    /** Item 5: many short data lines that never dispatch are bounded too. */
    @Test
    void anEventThatNeverEndsFailsTheStreamWithATypedError() throws Exception {
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events(""));
        RecordingListener l = new RecordingListener();
        start(source().maxEventSize(64 * 1024), l);
        l.expect("open 200");
        String lines = ("data: " + "y".repeat(1017) + "\n").repeat(16); // 16 KiB of data lines, no blank line
        for (int i = 0; i < 8; i++) {
            stream.send(lines);
        }
        l.expect("error StreamTooLargeException", "closed StreamTooLargeException");
        assertThat(l.errors.take()).hasMessageContaining("event").hasMessageContaining("65536");
    }

    @Test
    void theBoundIsValidatedAtBuild() {
        assertThatThrownBy(() -> source().maxEventSize(0).build()).hasMessage("maxEventSize must be positive: 0");
        assertThatThrownBy(() -> source().maxEventSize(-5).build()).hasMessage("maxEventSize must be positive: -5");
    }
}
