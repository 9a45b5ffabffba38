package dev.ssekit.client;

import dev.ssekit.codec.SseEvent;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.concurrent.Flow;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;

/**
 * The Reactive Streams TCK for {@link SseBodyHandlers#ofPublisher()} against a real server: one
 * response of N events; a 400 fails it. TestNG, run by the JUnit Platform's TestNG engine.
 */
public class ResponsePublisherTckTest extends FlowPublisherVerification<SseEvent> {
    private CountingEventServer server;
    private HttpClient client;

    /** The TCK's environment: generous timeouts, for 2 loaded cores. */
    public ResponsePublisherTckTest() {
        super(new TestEnvironment(1000, 200), 1000);
    }

    /**
     * Starts the server and the client.
     *
     * @throws Exception if the server cannot start
     */
    @BeforeClass
    public void startServer() throws Exception {
        server = new CountingEventServer();
        client = HttpClient.newHttpClient();
    }

    /** Stops both. */
    @AfterClass
    public void stopServer() {
        client.shutdownNow(); // not close(): it waits for every exchange, and some TCK tests leave theirs open
        server.close();
    }

    private Flow.Publisher<SseEvent> send(java.net.URI uri) {
        try {
            return client.send(HttpRequest.newBuilder(uri).build(), SseBodyHandlers.ofPublisher()).body();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Flow.Publisher<SseEvent> createFlowPublisher(long elements) {
        return send(server.events(elements));
    }

    @Override
    public Flow.Publisher<SseEvent> createFailedFlowPublisher() {
        return send(server.fail());
    }

    @Override
    public long maxElementsFromPublisher() {
        return Long.MAX_VALUE - 1;
    }
}
