package kalamdb.compat;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ConnectionTest {

  @Test
  void connectWithUserPasswordAndSelect1() throws Exception {
    try (Connection c = Kalam.connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT 1")) {
      assertTrue(c.isValid(5) || !c.isClosed(), "connection should be open");
      assertTrue(rs.next(), "SELECT 1 returns a row");
      assertEquals(1, rs.getInt(1));
      assertFalse(rs.next(), "SELECT 1 returns exactly one row");
    }
  }

  @Test
  void connectWithCredentialsInProperties() throws Exception {
    Properties p = new Properties();
    p.setProperty("user", Kalam.user());
    p.setProperty("password", Kalam.password());
    try (Connection c = DriverManager.getConnection(Kalam.baseUrl(), p);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT 'hello' AS greeting")) {
      assertTrue(rs.next());
      assertEquals("hello", rs.getString("greeting"));
    }
  }

  @Test
  void connectWithBearerToken() throws Exception {
    String token = Kalam.fetchBearerToken();
    assertEquals(3, token.split("\\.").length, "the token should be a JWT (three dot-separated parts)");
    try (Connection c = DriverManager.getConnection(Kalam.baseUrl() + "&token=" + Kalam.enc(token));
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT 41 + 1")) {
      assertTrue(rs.next());
      assertEquals(42, rs.getInt(1));
    }
  }

  @Test
  void wrongPasswordFailsToConnect() {
    // The driver authenticates while connecting, so getConnection itself must fail.
    SQLException e = assertThrows(SQLException.class,
        () -> DriverManager.getConnection(Kalam.url(Kalam.user(), Kalam.password() + "-wrong")).close());
    String msg = ErrorTest.messages(e).toLowerCase();
    assertTrue(msg.contains("unauthenticated") || msg.contains("auth") || msg.contains("password")
        || msg.contains("credential"), "the failure should say why (authentication), got: " + msg);
  }

  @Test
  void unknownUserFailsToConnect() {
    assertThrows(SQLException.class,
        () -> DriverManager.getConnection(Kalam.url("nosuchuser", Kalam.password())).close());
  }

  @Test
  void bogusTokenFailsToConnect() {
    assertThrows(SQLException.class,
        () -> DriverManager.getConnection(Kalam.baseUrl() + "&token=not.a.jwt").close());
  }
}
