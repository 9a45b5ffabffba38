package dev.ssekit.mercure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MercureClient} against the real hub over sockets, in Mercure 1.0 mode: publish and
 * receive, URL-pattern subscriptions, private updates and subscribe grants, the typed refusals
 * (status and RFC 6750 error), resumption after a reconnection and from a saved id.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MercureClientHubTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    static Path data;
    static HubUnderTest hub;

    /** A topic prefix of each test's own: the tests share one hub. */
    private final String base = "https://example.com/" + UUID.randomUUID() + "/";

    @BeforeAll
    static void startHub() throws IOException {
        hub = HubUnderTest.start(data);
    }

    @AfterAll
    static void stopHub() {
        if (hub != null) {
            hub.close();
        }
    }

    @Test
    void publishesInThreeLinesAndTheSubscriberReceivesTheUpdate() throws Exception {
        try (MercureClient client = hub.client().build()) {
            Recorder r = new Recorder();
            try (Subscription s = client.subscription().match(base + "books/1").start(r)) {
                r.awaitOpen();
                assertThat(r.opens).as("no cursor sent: no Mercure-Last-Event-ID").containsExactly(Optional.empty());
                String id = client.publish(Update.of(base + "books/1", "{\"title\":\"Dune\"}"));
                assertThat(id).as("the hub's own id").isNotBlank();
                assertThat(r.next(WAIT)).isEqualTo(new ReceivedUpdate(id, "message", "{\"title\":\"Dune\"}"));
                // every field: id, type, data with an empty line and leading spaces, retry; and an alternate topic
                String mine = client.publish(Update.builder(base + "books/2").alternateTopic(base + "books/1")
                        .data("first\n\n        indented").id("urn:example:" + UUID.randomUUID()).type("book-changed")
                        .retry(Duration.ofSeconds(3)).build());
                assertThat(mine).startsWith("urn:example:");
                assertThat(r.next(WAIT)).isEqualTo(new ReceivedUpdate(mine, "book-changed", "first\n\n        indented"));
                assertThat(s.lastEventId()).isEqualTo(mine);
                // publishAsync gives the id too
                String async = client.publishAsync(Update.of(base + "books/1", "async")).get(10, TimeUnit.SECONDS);
                assertThat(r.next(WAIT)).isEqualTo(new ReceivedUpdate(async, "message", "async"));
            }
            assertThat(r.closed.get(10, TimeUnit.SECONDS)).as("closed by close(): no failure").isEmpty();
        }
    }

    @Test
    void aBlockingStreamOfUpdatesEndsWhenClosedFromAnotherThreadAndFailsTypedOnARefusal() throws Exception {
        try (MercureClient client = hub.client().build()) {
            List<ReceivedUpdate> got = new java.util.concurrent.CopyOnWriteArrayList<>();
            CompletableFuture<Optional<Throwable>> ended = new CompletableFuture<>();
            Stream<ReceivedUpdate> updates = client.subscription().match(base + "stream").stream();
            Thread consumer = Thread.ofVirtual().start(() -> {
                try (updates) {
                    updates.forEach(got::add);
                    ended.complete(Optional.empty());
                } catch (RuntimeException e) {
                    ended.complete(Optional.of(e));
                }
            });
            // no onOpen in this form: publish until the stream has seen one (the subscription is live)
            // (awaitility paces the polls: one "ready?" published per poll, checked at the next)
            String first = await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (got.isEmpty()) {
                    client.publish(Update.of(base + "stream", "ready?"));
                    return null;
                }
                return got.get(0).id();
            }, java.util.Objects::nonNull);
            got.clear();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(client.publish(Update.builder(base + "stream").data("u" + i).type("t").build()));
            }
            await().atMost(WAIT).until(() -> got.stream().filter(u -> u.data().startsWith("u")).count() == 3);
            assertThat(got.stream().filter(u -> u.data().startsWith("u")).toList()).containsExactly(
                    new ReceivedUpdate(ids.get(0), "t", "u0"), new ReceivedUpdate(ids.get(1), "t", "u1"),
                    new ReceivedUpdate(ids.get(2), "t", "u2"));
            assertThat(first).isNotBlank();
            updates.close(); // from this thread, while the consumer waits in hasNext()
            assertThat(ended.get(10, TimeUnit.SECONDS)).as("ended, no failure").isEmpty();
            consumer.join(Duration.ofSeconds(10));
            assertThat(consumer.isAlive()).isFalse();
        }
        // closing the client ends a stream too
        MercureClient client = hub.client().build();
        Stream<ReceivedUpdate> updates = client.subscription().match(base + "stream").stream();
        CompletableFuture<Long> count = CompletableFuture.supplyAsync(updates::count);
        client.close();
        assertThat(count.get(10, TimeUnit.SECONDS)).isZero();
        // a refusal: the stream throws UncheckedIOException wrapping the typed MercureException, once
        try (MercureClient wrongKey = MercureClient.builder(hub.url()).issuer(HubUnderTest.ISSUER)
                .key("another secret of at least 32 bytes!").build();
                Stream<ReceivedUpdate> refused = wrongKey.subscription().match(base + "stream").stream()) {
            assertThatThrownBy(refused::toList).isInstanceOf(java.io.UncheckedIOException.class).cause()
                    .isInstanceOfSatisfying(MercureException.class, m -> {
                        assertThat(m.status()).isEqualTo(401);
                        assertThat(m.error()).contains("invalid_token");
                    });
        }
    }

    @Test
    void everyEventIsAnUpdateEvenOneShapedLikeSsekitsOldCloseNotice() throws Exception {
        // ids may repeat in Mercure 1.0, so an update of type "close" with this data and the last id is a publisher's:
        // the client filtered such events while ssekit-hub ended streams with "event: close" (it no longer does)
        try (MercureClient client = hub.client().build()) {
            Recorder r = new Recorder();
            try (Subscription s = client.subscription().match(base + "log").start(r)) {
                r.awaitOpen();
                String id = client.publish(Update.builder(base + "log").data("first").id("urn:example:" + UUID.randomUUID()).build());
                client.publish(Update.builder(base + "log").data("Closing the connection").type("close").id(id).build());
                assertThat(r.next(WAIT)).isEqualTo(new ReceivedUpdate(id, "message", "first"));
                assertThat(r.next(WAIT)).isEqualTo(new ReceivedUpdate(id, "close", "Closing the connection"));
                assertThat(s.lastEventId()).isEqualTo(id);
            }
        }
    }

    @Test
    void urlPatternSubscriptionsReceiveTheTopicsThePatternMatches() throws Exception {
        try (MercureClient client = hub.client().build()) {
            Recorder r = new Recorder();
            try (Subscription s = client.subscription().matchUrlPattern(base + "books/:id").start(r)) {
                r.awaitOpen();
                assertThat(s.uri().getRawQuery()).startsWith("match_urlpattern=https%3A%2F%2Fexample.com%2F");
                for (String topic : List.of("books/1", "authors/1", "books/1/chapters/2", "books/abc")) {
                    client.publish(Update.of(base + topic, topic));
                }
                client.publish(Update.of(base + "books/end", "end"));
                assertThat(r.until("end", WAIT)).extracting(ReceivedUpdate::data).containsExactly("books/1", "books/abc");
            }
        }
    }

    @Test
    void privateUpdatesReachOnlySubscribersWithASubscribeGrantOnTheirTopic() throws Exception {
        try (MercureClient client = hub.client().build()) {
            Recorder anonymous = new Recorder();
            Recorder books = new Recorder();
            Recorder publishOnly = new Recorder();
            Recorder all = new Recorder();
            List<Subscription> subscriptions = List.of(client.subscription().match("*").anonymous(true).start(anonymous),
                    client.subscription().match("*").grants(Grant.subscribe(TopicMatcher.urlPattern(base + "books/:id"))).start(books),
                    client.subscription().match("*").grants(Grant.publish(TopicMatcher.any())).start(publishOnly),
                    client.subscription().match(base + "books/1", base + "authors/1", base + "end").start(all));
            try {
                for (Recorder r : List.of(anonymous, books, publishOnly, all)) {
                    r.awaitOpen();
                }
                client.publish(Update.builder(base + "books/1").data("private book").privateUpdate(true).build());
                client.publish(Update.builder(base + "authors/1").data("private author").privateUpdate(true).build());
                client.publish(Update.of(base + "books/1", "public book"));
                client.publish(Update.of(base + "end", "end"));
                // the wildcard subscriptions also see the other tests' updates: keep this test's own
                assertThat(data(anonymous.until("end", WAIT))).containsExactly("public book");
                assertThat(data(books.until("end", WAIT))).containsExactly("private book", "public book");
                assertThat(data(publishOnly.until("end", WAIT))).containsExactly("public book");
                assertThat(data(all.until("end", WAIT))).containsExactly("private book", "private author", "public book");
            } finally {
                subscriptions.forEach(Subscription::close);
            }
        }
    }

    private List<String> data(List<ReceivedUpdate> updates) {
        List<String> out = new ArrayList<>();
        for (ReceivedUpdate u : updates) {
            if (!u.isSubscriptionEvent() && List.of("private book", "private author", "public book").contains(u.data())) {
                out.add(u.data());
            }
        }
        return out;
    }

    @Test
    void aWrongKeyIsATypedRefusalWithTheStatusAndTheBearerError() throws Exception {
        try (MercureClient wrongKey = MercureClient.builder(hub.url()).issuer(HubUnderTest.ISSUER)
                .key("another secret of at least 32 bytes!").build()) {
            MercureException e = catchThrowableOfType(MercureException.class,
                    () -> wrongKey.publish(Update.of(base + "books/1", "x")));
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.error()).contains("invalid_token");
            assertThat(e.resourceMetadata()).hasValueSatisfying(u -> assertThat(u).endsWith(
                    "/.well-known/oauth-protected-resource/.well-known/mercure"));
            assertThat(e.getMessage()).contains("401").contains("invalid_token");
            // the async form fails the same way
            assertThatThrownBy(() -> wrongKey.publishAsync(Update.of(base + "books/1", "x")).join())
                    .isInstanceOf(CompletionException.class).cause().isInstanceOf(MercureException.class)
                    .extracting(c -> ((MercureException) c).status()).isEqualTo(401);
            // a subscription with the wrong key ends (no reconnection loop) with the same refusal
            Recorder r = new Recorder();
            wrongKey.subscription().match(base + "books/1").start(r);
            Optional<IOException> failure = r.closed.get(10, TimeUnit.SECONDS);
            assertThat(failure).get().isInstanceOfSatisfying(MercureException.class, m -> {
                assertThat(m.status()).isEqualTo(401);
                assertThat(m.error()).contains("invalid_token");
            });
            assertThat(r.errors).hasSize(1);
        }
        try (MercureClient otherIssuer = MercureClient.builder(hub.url()).issuer("https://not-trusted.test")
                .key(HubUnderTest.KEY).build()) {
            MercureException e = catchThrowableOfType(MercureException.class,
                    () -> otherIssuer.publish(Update.of(base + "books/1", "x")));
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.error()).contains("invalid_token");
        }
        try (MercureClient otherAudience = hub.client().audience("https://elsewhere.test/.well-known/mercure").build()) {
            assertThat(catchThrowableOfType(MercureException.class,
                    () -> otherAudience.publish(Update.of(base + "books/1", "x"))).error()).contains("invalid_token");
        }
    }

    @Test
    void aTokenWithoutThePublishGrantIsInsufficientScopeAndNoTokenIsABareChallenge() throws Exception {
        try (MercureClient booksOnly = hub.client().grants(Grant.publish(TopicMatcher.urlPattern(base + "books/:id"))).build()) {
            assertThat(booksOnly.publish(Update.of(base + "books/1", "fine"))).isNotEmpty();
            MercureException e = catchThrowableOfType(MercureException.class,
                    () -> booksOnly.publish(Update.of(base + "authors/1", "x")));
            assertThat(e.status()).isEqualTo(403);
            assertThat(e.error()).contains("insufficient_scope");
            // publishing needs the grant on every topic, alternates too
            assertThat(catchThrowableOfType(MercureException.class, () -> booksOnly.publish(
                    Update.builder(base + "books/1").alternateTopic(base + "authors/1").build())).status()).isEqualTo(403);
        }
        try (MercureClient anonymous = MercureClient.builder(hub.url()).build()) {
            MercureException e = catchThrowableOfType(MercureException.class,
                    () -> anonymous.publish(Update.of(base + "books/1", "x")));
            assertThat(e.status()).isEqualTo(401);
            assertThat(e.challenge()).hasValueSatisfying(c -> assertThat(c).startsWith("Bearer"));
            assertThat(e.error()).as("no token presented: a bare challenge").isEmpty();
        }
    }

    @Test
    void aHubRefusalOfTheUpdateItselfIsA400WithTheHubsReason() throws Exception {
        try (MercureClient client = hub.client().build()) {
            // the hub's own namespace is reserved (L365-383); the builder cannot know the hub's path rules
            MercureException e = catchThrowableOfType(MercureException.class,
                    () -> client.publish(Update.of(hub.url() + "/subscriptions/x", "x")));
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.error()).isEmpty();
            assertThat(e.body()).isNotBlank();
        }
    }

    @Test
    void aSubscriptionResumesFromASavedIdAndLosesNothing() throws Exception {
        try (MercureClient client = hub.client().build()) {
            Recorder first = new Recorder();
            String last;
            try (Subscription s = client.subscription().match(base + "log").start(first)) {
                first.awaitOpen();
                for (int i = 0; i < 3; i++) {
                    client.publish(Update.of(base + "log", "seen " + i));
                }
                for (int i = 0; i < 3; i++) {
                    assertThat(first.next(WAIT).data()).isEqualTo("seen " + i);
                }
                last = s.lastEventId();
            }
            List<String> missed = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                missed.add(client.publish(Update.of(base + "log", "missed " + i)));
            }
            Recorder second = new Recorder();
            try (Subscription s = client.subscription().match(base + "log").lastEventId(last).start(second)) {
                second.awaitOpen();
                assertThat(second.opens).as("Mercure-Last-Event-ID: the cursor was known").containsExactly(Optional.of(last));
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    ReceivedUpdate u = second.next(WAIT);
                    assertThat(u.data()).isEqualTo("missed " + i);
                    ids.add(u.id());
                }
                assertThat(ids).isEqualTo(missed);
                assertThat(s.resumedFrom()).contains(last);
            }
        }
    }

    @Test
    void reconnectionsAfterTheTokenExpiresResumeWithAFreshTokenAndLoseNothing() throws Exception {
        // the hub closes a stream at its token's exp; the subscription reconnects with Last-Event-ID and a new token
        try (MercureClient warmUp = hub.client().build()) {
            // a warm hub: a 3 s token (exp in whole seconds: 2 to 3 s left) outlives its verification
            warmUp.publish(Update.of(base + "warm-up", "x"));
        }
        try (MercureClient client = hub.client().tokenTtl(Duration.ofSeconds(3)).build()) {
            Recorder r = new Recorder();
            try (Subscription s = client.subscription().match(base + "feed").start(r)) {
                r.awaitOpen();
                assertThat(s.state()).isNotNull();
                // until the stream was closed at its token's exp and reopened twice: the reconnections are the signal
                List<String> published = publishUntil(client, base + "feed", "n", Duration.ofMillis(20), 1500,
                        "two reconnections after the token's exp", () -> r.opens.size() >= 3);
                List<ReceivedUpdate> got = new ArrayList<>();
                while (got.size() < published.size()) {
                    got.add(r.next(WAIT));
                }
                List<String> ids = got.stream().map(ReceivedUpdate::id).toList();
                List<String> missing = new ArrayList<>(published);
                missing.removeAll(ids);
                assertThat(missing).as("updates missed; opens %s, errors %s", r.opens, r.errors).isEmpty();
                assertThat(ids).as("every update once, in order; opens %s", r.opens).isEqualTo(published);
                assertThat(r.opens.size()).as("reconnections (the token lived 3 s)").isGreaterThanOrEqualTo(3);
                assertThat(r.opens.subList(1, r.opens.size())).as("each reconnection sent a cursor the hub knew")
                        .allSatisfy(o -> assertThat(o).isPresent().get().isNotEqualTo("earliest"));
                assertThat(r.closed).isNotDone();
            }
        }
    }

    @Test
    void streamsTheHubEndsAtTheirMaximumAgeAddNoUpdate(@TempDir Path own) throws Exception {
        // the hub's retry hint at the end of an aged stream was "event: shutdown" with empty data: an update here
        try (HubUnderTest aging = HubUnderTest.start(own, "--max-connection-age", "2");
                MercureClient client = aging.client().build()) {
            Recorder r = new Recorder();
            try (Subscription s = client.subscription().match(base + "aging").start(r)) {
                r.awaitOpen();
                // until two streams were ended at their age and resumed: the reopened streams are the signal
                List<String> published = publishUntil(client, base + "aging", "a", Duration.ofMillis(200), 150,
                        "two streams ended at their age", () -> r.opens.size() >= 3);
                client.publish(Update.of(base + "aging", "end"));
                assertThat(r.until("end", WAIT)).extracting(ReceivedUpdate::id).as("every update once, nothing else; opens %s",
                        r.opens).isEqualTo(published);
                assertThat(r.opens.size()).as("streams ended at their age (2 s +-10 %%) and resumed").isGreaterThanOrEqualTo(3);
                assertThat(s.lastEventId()).isNotEmpty();
            }
        }
    }

    @Test
    void closingTheClientClosesItsSubscriptions() throws Exception {
        MercureClient client = hub.client().build();
        Recorder r = new Recorder();
        client.subscription().match(base + "x").start(r).lastEventId();
        r.awaitOpen();
        client.close();
        assertThat(r.closed.get(10, TimeUnit.SECONDS)).isEmpty();
        assertThatThrownBy(() -> client.publish(Update.of(base + "x", "y"))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(client::subscription).isInstanceOf(IllegalStateException.class);
    }

    /**
     * Publishes updates {@code prefix0}, {@code prefix1}... to {@code topic}, one per poll every {@code every}
     * (at most {@code max}), until {@code done} (30 s at the most: then the await fails); returns their ids in order.
     */
    private static List<String> publishUntil(MercureClient client, String topic, String prefix, Duration every, int max,
            String what, java.util.function.BooleanSupplier done) {
        List<String> published = new java.util.concurrent.CopyOnWriteArrayList<>();
        await(what).atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(every).until(() -> {
            if (published.size() < max) {
                published.add(client.publish(Update.of(topic, prefix + published.size())));
            }
            return done.getAsBoolean();
        });
        return new ArrayList<>(published);
    }
}
