package dev.ssekit.examples;

// readme:mercure-subscribe:start
import dev.ssekit.mercure.MercureClient;
import dev.ssekit.mercure.Subscription;
import java.net.URI;
import java.time.Duration;

public class MercureSubscribeSample {
    public static void main(String[] args) throws Exception {
        try (MercureClient hub = MercureClient.builder(URI.create(args[0])).issuer(args[1]).key(args[2]).build();
                // private updates too (the token grants subscribe on *); reconnects and resumes by itself
                Subscription books = hub.subscription().matchUrlPattern("https://example.com/books/:id")
                        .start(update -> System.out.println(update.id() + " " + update.data()))) {
            Thread.sleep(Duration.ofSeconds(args.length > 3 ? Long.parseLong(args[3]) : 60));
            System.out.println("resume later with lastEventId(\"" + books.lastEventId() + "\")");
        }
    }
}
// readme:mercure-subscribe:end
