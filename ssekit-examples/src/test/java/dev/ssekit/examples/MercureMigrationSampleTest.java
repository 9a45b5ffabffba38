package dev.ssekit.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ssekit.client.EventSource;
import dev.ssekit.client.EventSourceListener;
import dev.ssekit.client.StreamException;
import dev.ssekit.codec.SseEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's migration samples against the hub started as the README says ({@code --issuer
 * https://auth.example.com --resource-id https://hub.example.com/.well-known/mercure
 * --publisher-jwt-key KEY}, its own JVM): the minted tokens publish and subscribe, the subscriber
 * resumes with {@code Mercure-Last-Event-ID}. And the README's list of Mercure environment names is
 * exactly the set the hub's {@code --help} table honours.
 */
@Timeout(90)
class MercureMigrationSampleTest {

    private static final byte[] KEY = "a development key of at least 32 bytes!".getBytes(UTF_8);

    @TempDir
    Path data;

    @Test
    void theMintedTokensPublishAndSubscribeAndTheSubscriberResumes() throws Exception {
        Path log = Files.createTempFile("hub", ".log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.ssekit.hub.HubMain", "--listen", "127.0.0.1:0",
                "--data", data.toString(), "--issuer", "https://auth.example.com",
                "--resource-id", "https://hub.example.com/.well-known/mercure", "--publisher-jwt-key", new String(KEY, UTF_8));
        pb.environment().keySet().removeIf(k -> k.startsWith("MERCURE_") || k.startsWith("SSEKIT_"));
        Process hub = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        EventSource source = null;
        try (HttpClient http = HttpClient.newHttpClient()) {
            URI url = await("the hub's address").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> Files.readAllLines(log, UTF_8).stream().filter(l -> l.startsWith("ssekit hub on "))
                            .map(l -> URI.create(l.substring("ssekit hub on ".length()).replaceAll(" .*", ""))).findFirst(),
                            found -> found.isPresent() || !hub.isAlive())
                    .orElseThrow(() -> new AssertionError("the hub did not start: " + output(log)));
            String publisher = MercureMigrationSample.accessToken(KEY, "publish");
            String first = publish(http, url, publisher, "https://example.com/books/1", "one");
            publish(http, url, publisher, "https://example.com/books/2", "two");
            // the grant is on books only
            HttpResponse<String> authors = http.send(HttpRequest.newBuilder(url).header("Authorization", "Bearer " + publisher)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("topic=https%3A%2F%2Fexample.com%2Fauthors%2F1&data=x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(authors.statusCode()).isEqualTo(403);

            source = MercureMigrationSample.books(url, MercureMigrationSample.accessToken(KEY, "subscribe"), first);
            List<String> got = new CopyOnWriteArrayList<>();
            CompletableFuture<HttpHeaders> opened = new CompletableFuture<>();
            source.start(new EventSourceListener() {
                @Override
                public void onOpen(HttpResponse.ResponseInfo response) {
                    opened.complete(response.headers());
                }

                @Override
                public void onEvent(SseEvent event) {
                    got.add(event.data());
                }

                @Override
                public void onClosed(Optional<StreamException> failure) {
                    failure.ifPresent(opened::completeExceptionally);
                }
            });
            assertThat(opened.get(10, TimeUnit.SECONDS).firstValue("Mercure-Last-Event-ID")).contains(first);
            publish(http, url, publisher, "https://example.com/books/3", "three");
            await().atMost(Duration.ofSeconds(10)).until(() -> got.size() >= 2);
            assertThat(got).containsExactly("two", "three");
        } finally {
            if (source != null) {
                source.close();
            }
            hub.destroy();
            if (!hub.waitFor(10, TimeUnit.SECONDS)) {
                hub.destroyForcibly();
            }
        }
    }

    private static String output(Path log) {
        try {
            return Files.readString(log);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String publish(HttpClient http, URI url, String token, String topic, String data) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(url).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("topic=" + java.net.URLEncoder.encode(topic, UTF_8) + "&data=" + data)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("publish %s: %s", topic, r.body()).isEqualTo(200);
        return r.body();
    }

    @Test
    void theReadmeListsExactlyTheMercureEnvironmentNamesTheHubHonours() throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream usage = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(usage, true, UTF_8));
            dev.ssekit.hub.HubMain.main(new String[] {"--help"});
        } finally {
            System.setOut(stdout);
        }
        TreeSet<String> honoured = names(usage.toString(UTF_8));
        assertThat(honoured).as("the hub's --help table").isNotEmpty();
        String readme = Files.readString(Path.of("../README.md"));
        String section = readme.substring(readme.indexOf("### 0.x → 1.0 migration"));
        section = section.substring(0, section.indexOf("\n### ", 5));
        String listed = section.substring(section.indexOf("Mercure environment names"));
        listed = listed.substring(0, listed.indexOf("\n\n"));
        assertThat(names(listed)).as("the README's list").isEqualTo(honoured);
    }

    private static TreeSet<String> names(String text) {
        TreeSet<String> out = new TreeSet<>();
        Matcher m = Pattern.compile("\\bMERCURE_[A-Z_]+").matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }
}
