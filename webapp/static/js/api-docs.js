// /api/docs: Swagger UI over the app's own OpenAPI document (webapp/api/docs.py says why this viewer).
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("api-reference");
  window.SwaggerUIBundle({
    url: root.dataset.documentUrl,
    domNode: root,
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    showExtensions: true, // x-required-role: the role each operation needs
    filter: true,
    persistAuthorization: false,
    validatorUrl: null, // never send the document to a third-party validator
  });
});
