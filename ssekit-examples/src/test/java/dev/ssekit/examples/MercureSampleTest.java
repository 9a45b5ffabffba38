package dev.ssekit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.mercure.MercureClient;
import dev.ssekit.mercure.ReceivedUpdate;
import dev.ssekit.mercure.Subscription;
import dev.ssekit.mercure.Update;
import dev.ssekit.testkit.HubJvm;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Mercure samples against the real hub ({@link HubJvm}, Mercure 1.0 mode: {@code --issuer}, an HMAC key):
 * MercureSample publishes in three lines and a subscriber gets the update; MercureSubscribeSample prints what it gets;
 * MercureStreamSample prints the updates of its blocking stream until "done".
 */
@Timeout(90)
class MercureSampleTest {

    private static final String ISSUER = "https://example.com";
    private static final String KEY = "!ChangeThisMercureHubJWTSecretKey!";

    @TempDir
    Path data;

    @Test
    void theSamplesPublishAndSubscribeAtTheHub() throws Exception {
        PrintStream out = System.out;
        try (HubJvm hub = HubJvm.start("--data", data.toString(), "--issuer", ISSUER, "--publisher-jwt-key", KEY)) {
            URI url = hub.url();
            try (MercureClient client = MercureClient.builder(url).issuer(ISSUER).key(KEY).build()) {
                LinkedBlockingQueue<ReceivedUpdate> got = new LinkedBlockingQueue<>();
                LinkedBlockingQueue<Boolean> open = new LinkedBlockingQueue<>();
                try (Subscription s = client.subscription().match("https://example.com/books/1").start(new dev.ssekit.mercure.SubscriptionListener() {
                    @Override
                    public void onOpen(java.util.Optional<String> resumedFrom) {
                        open.add(true);
                    }

                    @Override
                    public void onUpdate(ReceivedUpdate update) {
                        got.add(update);
                    }
                })) {
                    assertThat(open.poll(15, TimeUnit.SECONDS)).as("subscribed").isTrue();
                    ByteArrayOutputStream printed = new ByteArrayOutputStream();
                    System.setOut(new PrintStream(printed, true, UTF_8));
                    MercureSample.main(new String[] {url.toString(), ISSUER, KEY});
                    System.setOut(out);
                    ReceivedUpdate u = got.poll(10, TimeUnit.SECONDS);
                    assertThat(u).isNotNull();
                    assertThat(u.data()).isEqualTo("{\"title\":\"Dune\"}");
                    assertThat(printed.toString(UTF_8)).isEqualTo("published " + u.id() + System.lineSeparator());
                    assertThat(s.lastEventId()).isEqualTo(u.id());
                }

                // the subscribe sample, for 4 s, while a private update is published to a topic its pattern matches
                ByteArrayOutputStream printed = new ByteArrayOutputStream();
                System.setOut(new PrintStream(printed, true, UTF_8));
                Thread sample = Thread.ofVirtual().start(() -> {
                    try {
                        MercureSubscribeSample.main(new String[] {url.toString(), ISSUER, KEY, "4"});
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                AtomicReference<String> last = new AtomicReference<>();
                // the sample subscribes asynchronously: publish (one per poll) until it printed one, within its 4 s
                await("the subscribe sample printed an update").atMost(Duration.ofSeconds(3)).pollDelay(Duration.ZERO)
                        .pollInterval(Duration.ofMillis(200)).until(() -> {
                            if (printed.toString(UTF_8).contains("{\"title\":\"Dune\"}")) {
                                return true;
                            }
                            last.set(client.publish(Update.builder("https://example.com/books/2").data("{\"title\":\"Dune\"}")
                                    .privateUpdate(true).build()));
                            return false;
                        });
                String id = last.get();
                assertThat(sample.join(Duration.ofSeconds(20))).as("the sample ended after its 4 s").isTrue();
                System.setOut(out);
                assertThat(printed.toString(UTF_8)).contains(" {\"title\":\"Dune\"}" + System.lineSeparator())
                        .contains("resume later with lastEventId(\"" + id + "\")");

                // the stream sample prints the updates until "done", then ends by itself
                ByteArrayOutputStream streamed = new ByteArrayOutputStream();
                System.setOut(new PrintStream(streamed, true, UTF_8));
                Thread streaming = Thread.ofVirtual().start(() -> {
                    try {
                        MercureStreamSample.main(new String[] {url.toString(), ISSUER, KEY});
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                AtomicReference<String> lastPaid = new AtomicReference<>();
                // it subscribes asynchronously: publish (one per poll) until it printed one
                await("the stream sample printed an update").atMost(Duration.ofSeconds(15)).pollDelay(Duration.ZERO)
                        .pollInterval(Duration.ofMillis(200)).until(() -> {
                            if (streamed.toString(UTF_8).contains(" paid")) {
                                return true;
                            }
                            lastPaid.set(client.publish(Update.of("https://example.com/orders/1", "paid")));
                            return false;
                        });
                String paid = lastPaid.get();
                client.publish(Update.of("https://example.com/orders/1", "done"));
                assertThat(streaming.join(Duration.ofSeconds(15))).as("the stream sample ended at \"done\"").isTrue();
                System.setOut(out);
                assertThat(streamed.toString(UTF_8)).endsWith(paid + " paid" + System.lineSeparator()).doesNotContain("done");
            }
        } finally {
            System.setOut(out);
        }
    }
}
