package kalamdb.compat;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class PreparedStatementTest {

  @Test
  void preparedInsertWithParameters() throws Exception {
    try (Connection c = Kalam.connect()) {
      String ns = Kalam.createNamespaceWithTable(c, "pins");
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + ns + ".t VALUES (?, ?, ?)")) {
        for (long id = 1; id <= 3; id++) {
          ps.setLong(1, id);
          ps.setString(2, "name" + id);
          ps.setDouble(3, id * 1.5);
          assertEquals(1, ps.executeUpdate(), "one row per bound INSERT");
        }
      }
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT count(*), sum(x) FROM " + ns + ".t")) {
        assertTrue(rs.next());
        assertEquals(3L, rs.getLong(1));
        assertEquals(9.0, rs.getDouble(2), 1e-9);
      }
    }
  }

  @Test
  void preparedSelectWithParameter() throws Exception {
    try (Connection c = Kalam.connect()) {
      String ns = Kalam.createNamespaceWithTable(c, "psel");
      try (Statement st = c.createStatement()) {
        assertEquals(3, st.executeUpdate(
            "INSERT INTO " + ns + ".t VALUES (1,'a',1.5), (2,'b',2.5), (3,'c',3.5)"));
      }
      try (PreparedStatement ps = c.prepareStatement("SELECT * FROM " + ns + ".t WHERE id = ?")) {
        assertEquals(1, ps.getParameterMetaData().getParameterCount(), "one parameter marker");
        ps.setLong(1, 2);
        try (ResultSet rs = ps.executeQuery()) {
          assertEquals(3, rs.getMetaData().getColumnCount(), "id, name, x (no _seq: it is hidden from *)");
          assertEquals("x", rs.getMetaData().getColumnName(3));
          assertTrue(rs.next(), "id 2 exists");
          assertEquals(2L, rs.getLong("id"));
          assertEquals("b", rs.getString("name"));
          assertEquals(2.5, rs.getDouble("x"), 0.0);
          assertFalse(rs.next());
        }
        // Re-execute the same prepared statement with another binding.
        ps.setLong(1, 3);
        try (ResultSet rs = ps.executeQuery()) {
          assertTrue(rs.next());
          assertEquals("c", rs.getString("name"));
          assertFalse(rs.next());
        }
        ps.setLong(1, 42);
        try (ResultSet rs = ps.executeQuery()) {
          assertFalse(rs.next(), "no row for an unknown id");
        }
      }
    }
  }

  @Test
  void preparedStatementWithoutParameters() throws Exception {
    try (Connection c = Kalam.connect();
        PreparedStatement ps = c.prepareStatement("SELECT 7 AS seven");
        ResultSet rs = ps.executeQuery()) {
      assertTrue(rs.next());
      assertEquals(7, rs.getInt("seven"));
    }
  }

  @Test
  void preparedDdlAndDml() throws Exception {
    String ns = Kalam.uniqueName("pddl");
    try (Connection c = Kalam.connect()) {
      try (PreparedStatement ps = c.prepareStatement("CREATE NAMESPACE " + ns)) {
        assertEquals(0, ps.executeUpdate());
      }
      try (PreparedStatement ps = c.prepareStatement(
          "CREATE SHARED TABLE " + ns + ".t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)")) {
        assertEquals(0, ps.executeUpdate());
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO " + ns + ".t VALUES (1,'a',1.5), (2,'b',2.5)")) {
        assertEquals(2, ps.executeUpdate());
      }
    }
  }
}
