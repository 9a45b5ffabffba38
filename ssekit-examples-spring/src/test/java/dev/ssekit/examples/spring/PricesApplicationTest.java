package dev.ssekit.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.client.EventSource;
import dev.ssekit.codec.SseEvent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Iterator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;

/** The Spring Boot application started for real (Tomcat on a random port), read by ssekit's client. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Timeout(60)
class PricesApplicationTest {

    @Value("${local.server.port}")
    int port;

    @Test
    void publishedPricesReachSubscribersAndResumeWorks() throws Exception {
        URI prices = URI.create("http://127.0.0.1:" + port + "/prices");
        try (HttpClient http = HttpClient.newHttpClient()) {
            String firstId;
            try (EventSource source = EventSource.builder(prices).build(); Stream<SseEvent> events = source.events()) {
                Iterator<SseEvent> it = events.iterator();
                awaitSubscribers(http, prices);
                firstId = publish(http, prices, "ACME 12.5");
                publish(http, prices, "ACME 12.7");
                SseEvent a = it.next();
                SseEvent b = it.next();
                assertThat(a.type()).isEqualTo("price");
                assertThat(a.data()).isEqualTo("ACME 12.5");
                assertThat(a.id()).isEqualTo(firstId);
                assertThat(b.data()).isEqualTo("ACME 12.7");
            }
            // a client that comes back with the first id gets what came after it
            try (EventSource source = EventSource.builder(prices).lastEventId(firstId).build();
                    Stream<SseEvent> events = source.events()) {
                assertThat(events.findFirst().orElseThrow().data()).isEqualTo("ACME 12.7");
            }
        }
    }

    private static String publish(HttpClient http, URI uri, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "text/plain").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** Waits until the stream's subscription is in place (the client connects on its own thread). */
    private static void awaitSubscribers(HttpClient http, URI prices) throws Exception {
        URI count = URI.create(prices + "/subscribers");
        await().atMost(java.time.Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                http.send(HttpRequest.newBuilder(count).build(), HttpResponse.BodyHandlers.ofString()).body()).as("subscribers").isEqualTo("1"));
    }
}
