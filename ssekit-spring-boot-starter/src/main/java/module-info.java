/**
 * ssekit for Spring Boot 4: auto-configuration of a {@link dev.ssekit.Broadcaster} from {@code
 * ssekit.*} properties ({@link dev.ssekit.spring.SsekitProperties}), its Micrometer meters, an
 * Actuator health indicator, and its shutdown before the web server stops; a Mercure client ({@link
 * dev.ssekit.mercure.MercureClient}) from {@code ssekit.mercure.*} ({@link dev.ssekit.spring.SsekitMercureProperties}).
 *
 * <p>Spring creates the configuration classes reflectively, so the package is open to Spring.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"}) // Spring and Micrometer have only automatic module names
module dev.ssekit.spring {
    requires transitive dev.ssekit;
    requires transitive dev.ssekit.micrometer;
    requires transitive dev.ssekit.mercure;
    requires transitive spring.boot;
    requires transitive spring.core;
    requires transitive spring.boot.autoconfigure;
    requires spring.beans;
    requires spring.context;
    requires static transitive spring.boot.health;
    requires static com.fasterxml.jackson.annotation; // read by javac on spring.boot.health's Health

    exports dev.ssekit.spring;

    opens dev.ssekit.spring to spring.core, spring.beans, spring.context;
}
