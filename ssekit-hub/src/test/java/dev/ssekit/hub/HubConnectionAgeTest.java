package dev.ssekit.hub;

import static dev.ssekit.hub.JwtVerifierTest.KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import dev.ssekit.client.EventSource;
import dev.ssekit.client.EventSourceListener;
import dev.ssekit.client.StreamException;
import dev.ssekit.codec.SseEvent;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue #26, item 2: {@code --max-connection-age} closes each stream at its age (±10 %) with a
 * {@code retry:} hint; a real client ({@code ssekit-client}'s EventSource over sockets) resumes with
 * {@code Last-Event-ID} and receives every published event exactly once, in order.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HubConnectionAgeTest {

    @Test
    void streamsCloseAtTheirAgeAndClientsResumeWithoutLoss() throws Exception {
        JwtVerifier key = JwtVerifier.secret(KEY);
        Broadcaster broadcaster = Broadcaster.create();
        MercureHub hub = MercureHub.start(new HubConfig(new InetSocketAddress("127.0.0.1", 0), key, key, true, Set.of(), 64 * 1024,
                100, 100, false, false, "", Duration.ofSeconds(10), Optional.empty()),
                new ConnectionLifetime.Settings(Duration.ofSeconds(1), Optional.of(Duration.ofSeconds(1))), broadcaster,
                Scheduler.system(), Clock.systemUTC());
        String publisher = Tokens.hs256("{\"mercure\":{\"publish\":[\"*\"]}}", KEY);
        URI base = URI.create("http://127.0.0.1:" + hub.address().getPort() + HubHandler.PATH);
        int clients = 3;
        List<List<String>> received = new ArrayList<>();
        List<AtomicInteger> opens = new ArrayList<>();
        List<EventSource> sources = new ArrayList<>();
        List<String> acknowledged = new CopyOnWriteArrayList<>();
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (int c = 0; c < clients; c++) {
                List<String> got = new CopyOnWriteArrayList<>();
                AtomicInteger opened = new AtomicInteger();
                received.add(got);
                opens.add(opened);
                EventSource source = EventSource.builder(URI.create(base + "?topic=t")).build();
                sources.add(source);
                source.start(new EventSourceListener() {
                    @Override
                    public void onOpen(HttpResponse.ResponseInfo response) {
                        opened.incrementAndGet();
                    }

                    @Override
                    public void onEvent(SseEvent event) {
                        // every event the client dispatches: the end of a stream at its age must add none (a
                        // Mercure client, an EventSource listener, would take it for an update)
                        got.add(event.type() + " " + event.data());
                    }

                    @Override
                    public void onClosed(Optional<StreamException> failure) {
                    }
                });
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> broadcaster.stats().connections() == clients);
            // publishing (one event per poll, at most 1,000) until every client's stream was closed for its age and
            // resumed at least twice: the reopened streams are the signal, not a span of time
            await("every stream closed at its age twice").atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(50)).until(() -> {
                        if (acknowledged.size() < 1000) {
                            int i = acknowledged.size();
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base).timeout(Duration.ofSeconds(10))
                                    .header("Authorization", "Bearer " + publisher)
                                    .header("Content-Type", "application/x-www-form-urlencoded")
                                    .POST(HttpRequest.BodyPublishers.ofString("topic=t&data=e" + i)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            assertThat(r.statusCode()).isEqualTo(200);
                            acknowledged.add("message e" + i);
                        }
                        return opens.stream().allMatch(o -> o.get() >= 3);
                    });
            for (int c = 0; c < clients; c++) {
                List<String> got = received.get(c);
                await().atMost(Duration.ofSeconds(15)).until(() -> got.size() >= acknowledged.size());
                assertThat(got).as("client %d: every event exactly once, in order", c).isEqualTo(acknowledged);
                assertThat(opens.get(c).get()).as("client %d's streams (closed at their age, resumed)", c).isGreaterThanOrEqualTo(3);
            }
        } finally {
            sources.forEach(EventSource::close);
            hub.close();
        }
    }
}
