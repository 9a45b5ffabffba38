package dev.ssekit.examples;

// readme:client:start
import dev.ssekit.client.EventSource;
import java.net.URI;

public class QuickstartClient {
    public static void main(String[] args) {
        var uri = URI.create(args.length > 0 ? args[0] : "http://127.0.0.1:8080/clock");
        // reconnects with Last-Event-ID, backoff with full jitter, stall detection: all by default
        try (EventSource source = EventSource.builder(uri).build()) {
            source.events()
                    .limit(5)
                    .forEach(event -> System.out.println(event.id() + " " + event.type() + ": " + event.data()));
        }
    }
}
// readme:client:end
