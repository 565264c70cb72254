//! writ coverage
