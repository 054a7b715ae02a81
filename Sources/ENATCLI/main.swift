print("enat")
