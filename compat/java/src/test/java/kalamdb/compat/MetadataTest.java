package kalamdb.compat;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MetadataTest {
  private Connection conn;
  private DatabaseMetaData md;
  private String ns;

  @BeforeAll
  void setUp() throws Exception {
    conn = Kalam.connect();
    md = conn.getMetaData();
  }

  /**
   * The namespace with table t, created on first use (through Flight SQL's
   * statement update, so these tests do not depend on JDBC prepared
   * statements) so that the tests that need no table report their own result
   * even if DDL fails.
   */
  private synchronized String ns() throws Exception {
    if (ns == null) ns = Kalam.createNamespaceWithTableViaFlightSql("meta");
    return ns;
  }

  @AfterAll
  void tearDown() throws Exception {
    if (conn != null) conn.close();
  }

  @Test
  void databaseProductName() throws Exception {
    assertEquals("KalamDB", md.getDatabaseProductName());
    assertNotNull(md.getDatabaseProductVersion());
  }

  @Test
  void getCatalogs() throws Exception {
    try (ResultSet rs = md.getCatalogs()) {
      assertTrue(rs.getMetaData().getColumnCount() >= 1);
      assertEquals("TABLE_CAT", rs.getMetaData().getColumnLabel(1).toUpperCase());
      while (rs.next()) {
        rs.getString("TABLE_CAT"); // readable; may be empty
      }
    }
  }

  @Test
  void getSchemasListsNamespace() throws Exception {
    ns(); // create it first
    List<String> schemas = new ArrayList<>();
    try (ResultSet rs = md.getSchemas()) {
      while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
    }
    assertTrue(schemas.contains(ns()), "getSchemas() should list " + ns() + ", got " + schemas);

    List<String> filtered = new ArrayList<>();
    try (ResultSet rs = md.getSchemas(null, ns())) {
      while (rs.next()) filtered.add(rs.getString("TABLE_SCHEM"));
    }
    assertEquals(List.of(ns()), filtered, "getSchemas(null, pattern) filters by the pattern");
  }

  @Test
  void getTableTypes() throws Exception {
    List<String> types = new ArrayList<>();
    try (ResultSet rs = md.getTableTypes()) {
      while (rs.next()) types.add(rs.getString("TABLE_TYPE"));
    }
    assertTrue(types.contains("SHARED"), "table types should include SHARED, got " + types);
  }

  @Test
  void getTablesListsSharedTable() throws Exception {
    ns(); // create it first
    List<String> found = new ArrayList<>();
    String type = null;
    try (ResultSet rs = md.getTables(null, ns(), "%", null)) {
      while (rs.next()) {
        found.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME"));
        if ("t".equals(rs.getString("TABLE_NAME"))) type = rs.getString("TABLE_TYPE");
      }
    }
    assertEquals(List.of(ns() + ".t"), found);
    assertEquals("SHARED", type);

    // Filtering by type, as DBeaver and friends do.
    try (ResultSet rs = md.getTables(null, ns(), "t", new String[] {"SHARED"})) {
      assertTrue(rs.next(), "getTables with types={SHARED} finds the table");
    }
  }

  @Test
  void getColumnsOfTable() throws Exception {
    ns(); // create it first
    Map<String, Integer> cols = new LinkedHashMap<>();
    Map<String, String> typeNames = new LinkedHashMap<>();
    try (ResultSet rs = md.getColumns(null, ns(), "t", "%")) {
      while (rs.next()) {
        cols.put(rs.getString("COLUMN_NAME"), rs.getInt("DATA_TYPE"));
        typeNames.put(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"));
      }
    }
    // The declared columns in order, as SELECT * shows them (the _seq system column is
    // selectable by name only, like other databases' hidden system columns).
    assertEquals(List.of("id", "name", "x"), new ArrayList<>(cols.keySet()), "columns in order");
    assertEquals(Types.BIGINT, cols.get("id"), "id is BIGINT; type names " + typeNames);
    assertEquals(Types.VARCHAR, cols.get("name"), "name is VARCHAR; type names " + typeNames);
    assertEquals(Types.DOUBLE, cols.get("x"), "x is DOUBLE; type names " + typeNames);
  }

  @Test
  void getPrimaryKeys() throws Exception {
    ns(); // create it first
    List<String> pk = new ArrayList<>();
    try (ResultSet rs = md.getPrimaryKeys(null, ns(), "t")) {
      while (rs.next()) pk.add(rs.getString("COLUMN_NAME"));
    }
    assertEquals(List.of("id"), pk);
  }

  @Test
  void getImportedAndExportedKeysAreEmpty() throws Exception {
    ns(); // create it first
    try (ResultSet rs = md.getImportedKeys(null, ns(), "t")) {
      assertFalse(rs.next());
    }
    try (ResultSet rs = md.getExportedKeys(null, ns(), "t")) {
      assertFalse(rs.next());
    }
  }

  /**
   * DatabaseMetaData.getTypeInfo() as a JDBC user sees it. The Arrow Flight SQL
   * JDBC driver (checked: 18.3.0) does not override Avatica's getTypeInfo, which
   * answers an empty result set without asking the server, so this can only
   * check that the call works and has the JDBC columns. The server's
   * GetXdbcTypeInfo itself is checked in {@link #serverXdbcTypeInfoNonEmpty()}.
   */
  @Test
  void getTypeInfoCallWorks() throws Exception {
    try (ResultSet rs = md.getTypeInfo()) {
      java.sql.ResultSetMetaData rsmd = rs.getMetaData();
      List<String> labels = new ArrayList<>();
      for (int i = 1; i <= rsmd.getColumnCount(); i++) labels.add(rsmd.getColumnLabel(i).toUpperCase());
      assertTrue(labels.containsAll(List.of("TYPE_NAME", "DATA_TYPE", "PRECISION", "NULLABLE")),
          "getTypeInfo() has the JDBC columns, got " + labels);
      List<String> names = new ArrayList<>();
      while (rs.next()) names.add(rs.getString("TYPE_NAME"));
      System.out.println("JDBC getTypeInfo() rows through the driver: " + names.size() + " " + names);
    }
  }

  /** GetXdbcTypeInfo straight from the server, with the Flight SQL client inside the driver jar. */
  @Test
  void serverXdbcTypeInfoNonEmpty() throws Exception {
    List<String> names = Kalam.withFlightSql((client, auth) -> {
      List<String> out = new ArrayList<>();
      var info = client.getXdbcTypeInfo(auth);
      for (var ep : info.getEndpoints()) {
        try (var stream = client.getStream(ep.getTicket(), auth)) {
          while (stream.next()) {
            var root = stream.getRoot();
            var col = root.getVector("type_name");
            for (int i = 0; i < root.getRowCount(); i++) out.add(String.valueOf(col.getObject(i)));
          }
        }
      }
      return out;
    });
    assertFalse(names.isEmpty(), "GetXdbcTypeInfo should describe some types");
    assertTrue(names.stream().anyMatch(n -> n.equalsIgnoreCase("BIGINT")), "BIGINT is described: " + names);
  }

  @Test
  void getSQLKeywords() throws Exception {
    String kw = md.getSQLKeywords();
    assertNotNull(kw);
    assertTrue(kw.toUpperCase().contains("NAMESPACE"), "keywords include NAMESPACE: " + kw);
    assertNotNull(md.getNumericFunctions());
    assertNotNull(md.getStringFunctions());
    assertNotNull(md.getIdentifierQuoteString());
  }
}
