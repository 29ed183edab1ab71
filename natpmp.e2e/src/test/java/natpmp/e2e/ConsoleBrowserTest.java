// SPDX-License-Identifier: Apache-2.0
package natpmp.e2e;

import static natpmp.e2e.NamespaceLab.LAN_GW;
import static natpmp.e2e.NamespaceLab.LAN_HOST;
import static natpmp.e2e.NamespaceLab.WAN_GW;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The NAT-PMP Web Console pages in a real headless Chromium (Debian {@code chromium} + {@code chromium-driver},
 * driven by Selenium) against the real assembly started by {@code ./natpmpd} in the gateway namespace of a
 * {@link NamespaceLab}.
 *
 * <p>The daemon's console listens on 127.0.0.1:18080 <em>inside</em> the gateway namespace. Two socat processes
 * bridge it to a free 127.0.0.1 port of the host namespace, where the browser runs: one in the gateway namespace
 * serves a unix socket in the lab's work dir ({@code UNIX-LISTEN → TCP 127.0.0.1:18080}), one on the host
 * listens on TCP and connects to that socket. Unix sockets are files, so they cross network namespaces.
 *
 * <p>Scenario: a wrong password is refused (401 for the browser and for a plain client); with the right one the
 * mappings page shows the mappings natpmpc created (live, without a reload); filter and sort work; deleting one
 * from the page removes it from the table and its rules from {@code iptables-save}; switching the backend from
 * the backends page (iptables → nftables) keeps the other mapping passing socat traffic, now through the
 * {@code ip natpmp} nft table. Screenshots of every page at 1280×800 go to {@code target/screenshots/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(240)
class ConsoleBrowserTest {

    private static final Pattern PASSWORD = Pattern.compile("web console user 'admin' password '([^']+)'");
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration UI_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration PASS_TIMEOUT = Duration.ofSeconds(8);
    private static final long LIFETIME = 3600;
    private static final int DELETED_PORT = 4301;
    private static final int KEPT_PORT = 4302;
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final Dimension VIEWPORT = new Dimension(1280, 800);

    @RegisterExtension
    final Diagnostics diagnostics = new Diagnostics();

    private NamespaceLab lab;
    private Daemon daemon;
    private Natpmpc natpmpc;
    private Traffic traffic;
    private String password;
    private int port;
    private WebDriver browser;
    private final List<Runnable> cleanups = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        Requirements.requireNamespaceLab();
        List<String> missing = new ArrayList<>(Requirements.missingTools(List.of("chromium", "chromedriver")));
        missing.replaceAll(m -> m + " (apt-get install chromium chromium-driver)");
        Requirements.enforce(missing);
        Files.createDirectories(SCREENSHOTS);

        lab = NamespaceLab.gatewayTopology("ConsoleBrowserTest");
        natpmpc = new Natpmpc(lab);
        traffic = new Traffic(lab);
        daemon = new Daemon(lab, lab.gw(), "daemon", "127.0.0.1:18080",
                List.of("-i", "wan0", "-a", LAN_GW, "-t", Long.toString(LIFETIME)));
        diagnostics.add("natpmpd output", daemon::diagnostics);
        diagnostics.add("gateway iptables-save", lab::gatewayRules);
        diagnostics.add("gateway nft ruleset", () -> lab.exec(lab.gw(), Duration.ofSeconds(10), "nft", "list",
                "ruleset").output());
        daemon.start();
        daemon.awaitReady(READY_TIMEOUT, () -> WAN_GW.equals(natpmpc.externalAddress(lab.lan(), LAN_GW,
                Duration.ofSeconds(2)).parsed().publicAddress().orElse(null)));
        password = awaitPassword();

        // bridge host 127.0.0.1:<port> → unix socket → gateway namespace 127.0.0.1:18080
        Path socket = lab.workDir().resolve("console.sock");
        Background inner = lab.start(lab.gw(), "console-bridge-gw", "socat",
                "UNIX-LISTEN:" + socket + ",fork,unlink-early", "TCP4:127.0.0.1:18080");
        assertThat(Waits.until(Duration.ofSeconds(10), Duration.ofMillis(100), () -> Files.exists(socket)))
                .as("bridge socket %s: %s", socket, inner.output()).isTrue();
        port = freePort();
        lab.start(null, "console-bridge-host", "socat", "TCP4-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr,fork",
                "UNIX-CONNECT:" + socket);
        assertThat(Waits.until(READY_TIMEOUT, Duration.ofMillis(300),
                () -> status("/system/console/natpmp-mappings.json", "admin:" + password) == 200))
                .as("console reachable through the bridge on port %d", port).isTrue();

        browser = startBrowser();
    }

    @AfterAll
    void tearDown() {
        try {
            cleanups.forEach(Runnable::run);
            if (browser != null) {
                browser.quit();
            }
            if (daemon != null && daemon.current() != null && daemon.current().isAlive()) {
                daemon.stop(Duration.ofSeconds(10));
            }
        } finally {
            if (lab != null) {
                lab.close();
            }
        }
    }

    private WebDriver startBrowser() {
        Path profile = lab.workDir().resolve("chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(new File("/usr/bin/chromium"));
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,800", "--force-device-scale-factor=1", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort()
                .withLogFile(lab.workDir().resolve("chromedriver.log").toFile()).build();
        ChromeDriver driver = new ChromeDriver(service, options);
        // the window includes no visible chrome in headless mode, but sizes still differ by build: make the
        // viewport itself 1280x800, the size the pages are designed for
        List<?> inner = (List<?>) driver.executeScript("return [window.innerWidth, window.innerHeight];");
        int width = ((Number) inner.get(0)).intValue();
        int height = ((Number) inner.get(1)).intValue();
        Dimension window = driver.manage().window().getSize();
        driver.manage().window().setSize(new Dimension(window.getWidth() + VIEWPORT.getWidth() - width,
                window.getHeight() + VIEWPORT.getHeight() - height));
        return driver;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private String awaitPassword() {
        assertThat(daemon.current().awaitOutput(out -> PASSWORD.matcher(out).find(), Duration.ofSeconds(30)))
                .as("a generated password line").isTrue();
        Matcher m = PASSWORD.matcher(daemon.output());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private String base(String credentials) {
        return "http://" + (credentials == null ? "" : credentials + "@") + "127.0.0.1:" + port;
    }

    /** @return the HTTP status of a GET through the bridge, -1 when nothing answered */
    private int status(String path, String credentials) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base(null) + path)).timeout(Duration.ofSeconds(5));
        if (credentials != null) {
            request.header("Authorization", "Basic "
                    + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8)));
        }
        try {
            return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private void open(String label) {
        browser.get(base("admin:" + password) + "/system/console/" + label);
        waitFor("page " + label + " rendered and refreshed from JSON", () -> !browser
                .findElements(By.cssSelector("#natpmp-page[data-updated]")).isEmpty());
    }

    private void waitFor(String what, java.util.function.BooleanSupplier condition) {
        new WebDriverWait(browser, UI_TIMEOUT).withMessage(what).until(d -> condition.getAsBoolean());
    }

    private void screenshot(String name) {
        byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        // PNG IHDR: width and height are the big-endian ints at offsets 16 and 20
        java.nio.ByteBuffer header = java.nio.ByteBuffer.wrap(png, 16, 8);
        assertThat(new Dimension(header.getInt(), header.getInt())).as("screenshot size of %s", name)
                .isEqualTo(VIEWPORT);
        try {
            Files.write(SCREENSHOTS.resolve(name + ".png"), png);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The page replaces the table body on every poll, so rows are read in one script call (no stale elements);
     * cells are joined by single spaces.
     */
    private List<String> rowTexts() {
        return rows("#natpmp-mappings tbody tr");
    }

    private List<String> rows(String selector) {
        Object rows = ((JavascriptExecutor) browser).executeScript("return Array.from(document.querySelectorAll("
                + "arguments[0])).map(r => Array.from(r.cells).map(c => c.textContent).join(' '));", selector);
        return ((List<?>) rows).stream().map(r -> String.valueOf(r).replaceAll("\\s+", " ").strip()).toList();
    }

    /** Clicks the element, finding it again when a poll replaced it in between. */
    private void click(By selector) {
        new WebDriverWait(browser, UI_TIMEOUT).ignoring(StaleElementReferenceException.class)
                .withMessage("click " + selector).until(d -> {
                    d.findElement(selector).click();
                    return true;
                });
    }

    private int map(int internal) {
        Natpmpc.Run run = natpmpc.map(lab.lan(), LAN_GW, "udp", internal + 36000, internal, LIFETIME);
        int external = run.mappedPort();
        cleanups.add(() -> natpmpc.map(lab.lan(), LAN_GW, "udp", 0, internal, 0));
        return external;
    }

    /** @return the daemon's iptables rules (chains NATPMP-...) that mention {@code number} */
    private List<String> iptablesRulesMentioning(int number) {
        Pattern p = Pattern.compile("(^|[^0-9])" + number + "([^0-9]|$)");
        return lab.gatewayRules().lines().filter(l -> l.startsWith("-A NATPMP") || l.contains("-j NATPMP"))
                .filter(l -> p.matcher(l).find()).toList();
    }

    private String natpmpNftTable() {
        ExecResult r = lab.exec(lab.gw(), Duration.ofSeconds(10), "nft", "list", "table", "ip", "natpmp");
        return r.ok() ? r.stdout() : "";
    }

    // ------------------------------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void wrongPasswordIsRefused() {
        assertThat(status("/system/console/natpmp-mappings", null)).as("no credentials").isEqualTo(401);
        assertThat(status("/system/console/natpmp-mappings.json", "admin:" + password + "x")).as("wrong password")
                .isEqualTo(401);
        assertThat(status("/system/console/natpmp-mappings.json", "admin:" + password)).isEqualTo(200);
        browser.get(base("admin:not-" + password) + "/system/console/natpmp-mappings");
        assertThat(browser.findElements(By.id("natpmp-page"))).as("the page with a wrong password").isEmpty();
        screenshot("wrong-password");
    }

    @Test
    @Order(2)
    void mappingsPageShowsNatpmpcMappingsLive_filterAndSort() {
        open("natpmp-mappings");
        screenshot("natpmp-mappings-empty");
        // created after the page was loaded: the table must pick them up without a reload
        int deleted = map(DELETED_PORT);
        int kept = map(KEPT_PORT);
        waitFor("both mappings in the table", () -> rowTexts().stream().filter(r -> r.contains(LAN_HOST)).count() == 2);
        List<String> rows = rowTexts();
        assertThat(rows).anySatisfy(r -> assertThat(r).contains(LAN_HOST, "UDP", Integer.toString(DELETED_PORT),
                Integer.toString(deleted), "NATPMP"));
        assertThat(rows).anySatisfy(r -> assertThat(r).contains(Integer.toString(KEPT_PORT), Integer.toString(kept)));
        String summary = browser.findElement(By.id("natpmp-summary")).getText();
        assertThat(summary).contains(WAN_GW).contains("iptables (OK)").contains("2 (2 UDP, 0 TCP, 0 static) for 1 client");

        // sort by internal port, descending on the second click
        WebElement internalHeader = browser.findElement(By.cssSelector("#natpmp-mappings th[data-key='internalPort']"));
        internalHeader.click();
        waitFor("ascending", () -> rowTexts().get(0).contains(Integer.toString(DELETED_PORT)));
        internalHeader.click();
        waitFor("descending", () -> rowTexts().get(0).contains(Integer.toString(KEPT_PORT)));

        // filter by the kept port
        WebElement filter = browser.findElement(By.id("natpmp-filter"));
        filter.sendKeys(Integer.toString(KEPT_PORT));
        waitFor("filtered to one row", () -> rowTexts().size() == 1 && rowTexts().get(0).contains(Integer.toString(KEPT_PORT)));
        assertThat(browser.findElement(By.id("natpmp-shown")).getText()).isEqualTo("1 of 2 shown");
        filter.clear();
        filter.sendKeys(" ");
        waitFor("filter cleared", () -> rowTexts().size() == 2);
        screenshot("natpmp-mappings");
    }

    @Test
    @Order(3)
    void deleteFromThePageRemovesTheMappingAndItsKernelRules() {
        open("natpmp-mappings");
        int external = DELETED_PORT + 36000;
        assertThat(iptablesRulesMentioning(external)).as("rules before the delete").isNotEmpty();
        click(By.cssSelector("button.natpmp-delete[data-port='" + DELETED_PORT + "']"));
        waitFor("row gone", () -> rowTexts().size() == 1 && rowTexts().get(0).contains(" " + KEPT_PORT + " "));
        assertThat(browser.findElement(By.id("natpmp-message")).getText()).contains("Deleted UDP " + LAN_HOST + ":"
                + DELETED_PORT + " (1 removed)");
        assertThat(rowTexts()).singleElement().asString().contains(Integer.toString(KEPT_PORT));
        assertThat(Waits.until(Duration.ofSeconds(5), Duration.ofMillis(200),
                () -> iptablesRulesMentioning(external).isEmpty())).as("iptables rules left: %s",
                        iptablesRulesMentioning(external)).isTrue();
        assertThat(iptablesRulesMentioning(KEPT_PORT + 36000)).as("the other mapping's rules").isNotEmpty();
        screenshot("natpmp-mappings-after-delete");
    }

    @Test
    @Order(4)
    void switchingTheBackendFromThePageKeepsTheMappingPassingTraffic() {
        Traffic.Listener listener = traffic.listen(lab.lan(), "udp", KEPT_PORT);
        cleanups.add(0, listener::stop);
        int external = KEPT_PORT + 36000;
        assertThat(traffic.passes(lab.wan(), WAN_GW, external, listener, PASS_TIMEOUT)).as("before: via iptables")
                .isTrue();

        // README "Firewall layout (nftables backend)": an accept in table ip natpmp cannot override the router's
        // FORWARD policy DROP in iptables; the operator allows DNATed flows there once (ct status dnat)
        lab.execOk(lab.gw(), "iptables", "-w", "5", "-A", "FORWARD", "-m", "conntrack", "--ctstate", "DNAT", "-j",
                "ACCEPT");

        open("natpmp-backends");
        // both backends, each from its own bundle (./natpmpd may hot-deploy them through the load folder)
        new WebDriverWait(browser, Duration.ofSeconds(45)).withMessage("iptables in use and nftables installed")
                .until(d -> rows("#natpmp-backends tbody tr").stream().anyMatch(r -> r.startsWith("iptables (in use) "))
                        && rows("#natpmp-backends tbody tr").stream().anyMatch(r -> r.startsWith("nftables ")));
        screenshot("natpmp-backends");
        click(By.cssSelector("button.natpmp-select[data-backend='nftables']"));
        waitFor("nftables in use", () -> browser.findElement(By.cssSelector("#natpmp-summary [data-key='inUse']"))
                .getText().equals("nftables"));
        assertThat(browser.findElement(By.id("natpmp-message")).getText())
                .contains("backend.target=(natpmp.backend=nftables)");
        assertThat(browser.findElement(By.id("natpmp-backends")).getText()).contains("nftables (in use)");
        screenshot("natpmp-backends-after-switch");

        assertThat(Waits.until(Duration.ofSeconds(10), Duration.ofMillis(300),
                () -> natpmpNftTable().contains(Integer.toString(external)))).as("nft table ip natpmp holds %d",
                        external).isTrue();
        assertThat(Waits.until(Duration.ofSeconds(10), Duration.ofMillis(300),
                () -> iptablesRulesMentioning(external).isEmpty())).as("iptables rules released").isTrue();
        assertThat(traffic.passes(lab.wan(), WAN_GW, external, listener, PASS_TIMEOUT)).as("after: via nftables")
                .isTrue();
        assertThat(Files.exists(daemon.load().resolve("natpmp.service.cfg"))).isTrue();

        open("natpmp-mappings");
        assertThat(browser.findElement(By.id("natpmp-summary")).getText()).contains("nftables (OK)");
        screenshot("natpmp-mappings-nftables");
    }

    @Test
    @Order(5)
    void subnetMappingPageShowsAHotDeployedPoolAndAdministersStaticBindings() throws IOException {
        open("natpmp-netmap");
        assertThat(browser.findElement(By.id("natpmp-summary")).getText()).contains("not installed");
        screenshot("natpmp-netmap-absent");

        Path jar = Requirements.home().resolve("natpmp.netmap/target/natpmp.netmap-0.1.0-SNAPSHOT.jar");
        Requirements.enforce(Files.isRegularFile(jar) ? List.of() : List.of("subnet mapper bundle " + jar));
        // hot deploy (FileInstall): the manager's configuration, one pool on the WAN side, then the bundle
        daemon.writeConfig("natpmp.netmap", "external.interface=wan0");
        daemon.writeConfig("natpmp.netmap.rule-lab", "subnet=192.168.60.0/24", "prefix=203.0.113.64/30", "hook=snat");
        Files.copy(jar, daemon.load().resolve("natpmp.netmap.jar"));
        new WebDriverWait(browser, Duration.ofSeconds(45)).withMessage("pool 203.0.113.64/30 on the page")
                .until(d -> browser.findElement(By.id("natpmp-pools")).getText().contains("Pool 203.0.113.64/30"));
        assertThat(browser.findElement(By.id("natpmp-summary")).getText()).contains("1 pool");

        WebElement form = browser.findElement(By.id("natpmp-bind-form"));
        form.findElement(By.name("prenat")).sendKeys(NamespaceLab.LAN2_HOST);
        form.findElement(By.name("postnat")).sendKeys("203.0.113.65");
        form.findElement(By.tagName("button")).click();
        waitFor("static binding listed", () -> rows("#natpmp-pools tbody tr").stream()
                .anyMatch(r -> r.startsWith(NamespaceLab.LAN2_HOST + " 203.0.113.65 ") && r.contains("static")));
        assertThat(browser.findElement(By.id("natpmp-message")).getText())
                .contains("Bound " + NamespaceLab.LAN2_HOST + " to 203.0.113.65 (pool 203.0.113.64/30)");
        screenshot("natpmp-netmap");

        click(By.cssSelector("button.natpmp-unbind[data-address='" + NamespaceLab.LAN2_HOST + "']"));
        waitFor("binding gone", () -> rows("#natpmp-pools tbody tr").stream()
                .noneMatch(r -> r.contains(NamespaceLab.LAN2_HOST)));
        assertThat(browser.findElement(By.id("natpmp-message")).getText()).contains("Unbound " + NamespaceLab.LAN2_HOST);
    }
}
