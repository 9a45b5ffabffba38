package dev.ssekit.examples;

// readme:streaming:start
import dev.ssekit.client.SseBodyHandlers;
import dev.ssekit.codec.SseEvent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.stream.Stream;

public class StreamingApiSample {
    public static void main(String[] args) throws Exception {
        var request = HttpRequest.newBuilder(URI.create(args[0] + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + args[1]).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}"""))
                .build();
        try (var client = HttpClient.newHttpClient();
                Stream<SseEvent> events = client.send(request, SseBodyHandlers.ofEvents()).body()) {
            // one response, never reopened; a 4xx/5xx throws with its status and error body
            events.takeWhile(e -> !e.data().equals("[DONE]")).forEach(e -> System.out.println(e.data()));
        }
    }
}
// readme:streaming:end
