package dev.ssekit.client;

import dev.ssekit.codec.SseEvent;
import java.time.Duration;
import java.util.concurrent.Flow;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;

/**
 * The Reactive Streams TCK for {@link EventSource#publisher()} against a real server: N events,
 * then the reconnection gets 204 and the publisher completes; a 400 fails it. TestNG, run by the
 * JUnit Platform's TestNG engine.
 */
public class SourcePublisherTckTest extends FlowPublisherVerification<SseEvent> {
    private CountingEventServer server;

    /** The TCK's environment: generous timeouts, for 2 loaded cores. */
    public SourcePublisherTckTest() {
        super(new TestEnvironment(1000, 200), 1000);
    }

    /**
     * Starts the server.
     *
     * @throws Exception if it cannot start
     */
    @BeforeClass
    public void startServer() throws Exception {
        server = new CountingEventServer();
    }

    /** Stops the server. */
    @AfterClass
    public void stopServer() {
        server.close();
    }

    private static EventSource.Builder fast(java.net.URI uri) {
        return EventSource.builder(uri).readTimeout(Duration.ZERO).retryPolicy(RetryPolicy.builder()
                .minDelay(Duration.ofMillis(1)).initialDelay(Duration.ofMillis(1)).maxDelay(Duration.ofMillis(10)).build());
    }

    @Override
    public Flow.Publisher<SseEvent> createFlowPublisher(long elements) {
        return fast(server.events(elements)).build().publisher();
    }

    @Override
    public Flow.Publisher<SseEvent> createFailedFlowPublisher() {
        return fast(server.fail()).build().publisher();
    }
}
