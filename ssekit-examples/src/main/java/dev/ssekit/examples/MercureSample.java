package dev.ssekit.examples;

// readme:mercure:start
import dev.ssekit.mercure.MercureClient;
import dev.ssekit.mercure.Update;
import java.net.URI;

public class MercureSample {
    public static void main(String[] args) throws Exception {
        // the hub's URL, an issuer it trusts (--issuer) and its key (--publisher-jwt-key); audience: the hub URL
        try (MercureClient hub = MercureClient.builder(URI.create(args[0])).issuer(args[1]).key(args[2]).build()) {
            String id = hub.publish(Update.of("https://example.com/books/1", "{\"title\":\"Dune\"}"));
            System.out.println("published " + id);
        }
    }
}
// readme:mercure:end
