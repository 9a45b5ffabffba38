package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link EventSource#publisher()} against a real server, beyond what the TCK checks. */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SourcePublisherTest {
    private ScriptedServer server;

    @BeforeEach
    void setUp() throws Exception {
        server = new ScriptedServer();
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private EventSource.Builder fast() {
        return EventSource.builder(server.uri("/sse")).readTimeout(Duration.ZERO).retryPolicy(RetryPolicy.builder()
                .minDelay(Duration.ofMillis(1)).initialDelay(Duration.ofMillis(1)).maxDelay(Duration.ofMillis(10)).build());
    }

    @Test
    void eventsAcrossAReconnectionByDemandThenA204Completes() throws Exception {
        server.enqueue(ScriptedServer.Response.events("id: 1\ndata: a\n\nid: 2\ndata: b\n\n"));
        server.enqueue(ScriptedServer.Response.events("id: 3\ndata: c\n\n"));
        server.enqueue(ScriptedServer.Response.status(204));
        StreamingApiTest.Collector c = new StreamingApiTest.Collector(1);
        fast().build().publisher().subscribe(c);
        assertThat(c.received(1)).isTrue();
        // no demand: nothing more arrives, though the server sent it all (its third request, the
        // 204, is the signal); then a bounded wait for the completion that must not come yet
        for (int i = 1; i <= 3; i++) {
            assertThat(server.requests.poll(10, TimeUnit.SECONDS)).as("request %d", i).isNotNull();
        }
        assertThat(c.done.await(300, TimeUnit.MILLISECONDS)).as("not completed while events wait for demand").isFalse();
        assertThat(c.events).hasSize(1);
        c.subscription.request(10);
        assertThat(c.done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(c.error.get()).isNull();
        assertThat(c.events.stream().map(e -> e.data()).toList()).containsExactly("a", "b", "c");
    }

    @Test
    void aFatalFailureIsOnErrorWithoutFurtherDemand() throws Exception {
        server.enqueue(ScriptedServer.Response.events("data: a\n\n"));
        server.enqueue(ScriptedServer.Response.status(401).header("Content-Type", "application/json"));
        StreamingApiTest.Collector c = new StreamingApiTest.Collector(1);
        fast().build().publisher().subscribe(c);
        assertThat(c.done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(c.error.get()).isInstanceOf(StreamHttpException.class);
        assertThat(c.events).hasSize(1);
    }

    @Test
    void cancelClosesTheSourceAndTheConnection() throws Exception {
        ScriptedServer.Stream stream = server.stream(ScriptedServer.Response.events("data: a\n\n"));
        EventSource source = fast().build();
        StreamingApiTest.Collector c = new StreamingApiTest.Collector(1);
        source.publisher().subscribe(c);
        assertThat(c.received(1)).isTrue();
        c.subscription.cancel();
        assertThat(source.state()).isEqualTo(EventSource.State.CLOSED);
        assertThat(stream.awaitDisconnect()).as("the connection was closed").isTrue();
        // a negative: no onComplete/onError after cancel; 200 ms of nothing, a bounded wait
        assertThat(c.done.await(200, TimeUnit.MILLISECONDS)).as("nothing signalled after cancel").isFalse();
        assertThat(c.events).as("nothing delivered after cancel").hasSize(1);
    }
}
