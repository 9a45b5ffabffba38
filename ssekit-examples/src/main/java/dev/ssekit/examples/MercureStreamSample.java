package dev.ssekit.examples;

// readme:mercure-stream:start
import dev.ssekit.mercure.MercureClient;
import dev.ssekit.mercure.ReceivedUpdate;
import java.net.URI;
import java.util.stream.Stream;

public class MercureStreamSample {
    public static void main(String[] args) throws Exception {
        try (MercureClient hub = MercureClient.builder(URI.create(args[0])).issuer(args[1]).key(args[2]).build();
                // blocking (run it on a virtual thread); reconnects and resumes by itself; closing it unsubscribes
                Stream<ReceivedUpdate> updates = hub.subscription().match("https://example.com/orders/1").stream()) {
            updates.takeWhile(update -> !update.data().equals("done"))
                    .forEach(update -> System.out.println(update.id() + " " + update.data()));
        }
    }
}
// readme:mercure-stream:end
